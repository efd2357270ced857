"""The Python path gives what the CLI gives, and runs can be split, changed and restored."""

import _thread
import signal
import threading
import time

import numpy as np
import pytest

import pbn
from conftest import ISTDP, SMALL, set_args, small


def same_bytes(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("threads", [1, 2])
def test_same_config_and_seed_give_the_cli_spikes_byte_for_byte(tmp_path, cli, threads):
    out = tmp_path / "run"
    cli("run", ISTDP, *set_args(), "--seed", 7, "--out", out, "--quiet")
    sim = pbn.Simulation(small(), threads=threads, seed=7)
    sim.run()
    t, ids = sim.spikes()
    assert len(t) > 1000
    assert same_bytes(t, np.load(out / "spike_times_ms.npy"))
    assert same_bytes(ids, np.load(out / "spike_ids.npy"))
    rt, rates = sim.rates()
    assert same_bytes(rates, np.load(out / "population_rates_hz.npy"))
    assert same_bytes(rt, np.load(out / "population_rates_t_ms.npy"))
    w = sim.weights("I_to_E")
    assert same_bytes(w["samples"], np.load(out / "weights_I_to_E_samples.npy"))
    assert same_bytes(w["mean"], np.load(out / "weights_I_to_E_mean.npy"))
    pre, post, j = sim.final_weights("I_to_E")
    assert same_bytes(j, np.load(out / "final_weights_I_to_E_j.npy"))
    assert same_bytes(pre, np.load(out / "final_weights_I_to_E_pre.npy"))
    # The run directory through pbn.load_run: the same arrays.
    run = pbn.load_run(out)
    assert run.status == "completed" and run.simulated_ms == 400.0
    ours, theirs = sim.neurons(), run.neurons()
    assert same_bytes(ours["ids"], theirs["ids"]) and same_bytes(ours["t_ms"], theirs["t_ms"])
    assert same_bytes(ours["v_mv"], theirs["v_mv"]) and ours["v_mv"].shape[1] == len(ours["ids"]) > 0
    assert set(ours["currents"]) == {"E", "I", "X"}
    for source in ours["currents"]:
        assert same_bytes(ours["currents"][source], theirs["currents"][source])
    assert same_bytes(run.spike_times_ms, t) and same_bytes(run.spike_ids, ids)
    assert same_bytes(run.weights("I_to_E")["std"], w["std"])
    assert same_bytes(run.final_weights("I_to_E")[2], j)
    assert run.mean_rates_hz() == sim.mean_rates_hz()
    assert run.config.to_toml() == sim.config.to_toml()


def test_prime_change_nothing_continue_equals_the_uninterrupted_run(tmp_path):
    whole = pbn.Simulation(small()).run()
    split = pbn.Simulation(small(), threads=2)
    split.run(150.0)
    split.set_plasticity("I_to_E", split.plasticity("I_to_E"))  # the rule it has: no change
    split.run(0.0)
    split.run(250.0)
    assert split.time_ms == whole.time_ms == 400.0
    for a, b in zip(whole.spikes(), split.spikes()):
        assert same_bytes(a, b)
    assert same_bytes(whole.weights(0)["samples"], split.weights(0)["samples"])
    assert same_bytes(whole.final_weights(1)[2], split.final_weights(1)[2])
    # Running on past the configured duration is allowed.
    whole.run(100.0)
    assert whole.time_ms == 500.0


def test_a_checkpoint_restores_the_state_and_the_changes(tmp_path):
    path = tmp_path / "state.ckpt"
    a = pbn.Simulation(small())
    a.run(200.0)
    a.set_plasticity("I_to_E", eta=1e-2)
    a.set_input("X", 12.0, correlation=0.05)
    a.checkpoint(path)
    b = pbn.Simulation.restore(path, threads=2)
    assert b.time_ms == 200.0
    assert b.plasticity("I_to_E")["eta"] == 1e-2
    assert b.config["inputs.0.rate_hz"] == 12.0 and b.config["inputs.0.correlation"] == 0.05
    a.run(200.0)
    b.run(200.0)
    ta, ia = a.spikes()
    tb, ib = b.spikes()
    after = ta > 200.0
    assert same_bytes(ta[after], tb) and same_bytes(ia[after], ib)
    assert same_bytes(a.final_weights("I_to_E")[2], b.final_weights("I_to_E")[2])


def test_switching_plasticity_off_and_on():
    sim = pbn.Simulation(small())
    sim.set_plasticity("I_to_E", None)
    assert sim.plasticity("I_to_E") is None
    sim.run(200.0)
    w = sim.weights("I_to_E")
    assert np.allclose(w["mean"], -150.0, atol=1e-9) and np.all(w["std"] < 1e-9)
    sim.set_plasticity("I_to_E", enabled=True, eta=1e-2)
    assert sim.plasticity("I_to_E")["eta"] == 1e-2
    sim.run(200.0)
    assert sim.weights("I_to_E")["std"][-1] > 0.1
    # A static projection cannot learn: the message says what to do instead.
    with pytest.raises(ValueError, match="was built static"):
        sim.set_plasticity("E_to_E", "kohonen", eta=1e-3, beta=1.0)


def test_an_input_rate_change_raises_the_rates():
    sim = pbn.Simulation(small(ISTDP, [SMALL[0], "duration_ms=300", "projections.1.plasticity.eta=0"]))
    sim.run()
    before = sim.mean_rates_hz(100.0, 300.0)
    sim.set_input(0, 20.0)
    sim.run(300.0)
    after = sim.mean_rates_hz(400.0, 600.0)
    for p in ("E", "I"):
        assert after[p] > 1.3 * before[p], (before, after)


def test_ctrl_c_stops_cleanly_and_the_run_continues_exactly():
    cfg = small(ISTDP, ["n=1500", "duration_ms=10000"])
    whole = pbn.Simulation(cfg).run()
    sim = pbn.Simulation(cfg)
    # Python's own Ctrl-C handler, whatever this process inherited: a job started in the
    # background by a non-interactive shell ignores SIGINT, and then interrupt_main does nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(0.05, _thread.interrupt_main).start()
        with pytest.raises(KeyboardInterrupt):
            sim.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert 0 < sim.time_ms < 10000.0, sim.time_ms
    sim.run()
    for a, b in zip(whole.spikes(), sim.spikes()):
        assert same_bytes(a, b)


def test_the_gil_is_released_while_stepping():
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    sim = pbn.Simulation(small(ISTDP, ["n=1500", "duration_ms=10000"]))
    t = threading.Thread(target=tick)
    t.start()
    started = time.monotonic()
    sim.run()
    took = time.monotonic() - started
    done.set()
    t.join()
    assert took > 0.1
    assert len(ticks) > 0.3 * took / 0.0011, (len(ticks), took)


def test_progress_callback_sees_time_and_rates():
    seen = []
    sim = pbn.Simulation(small())
    sim.run(progress=lambda t, end, rates: seen.append((t, end, list(rates))))
    assert seen and seen[-1][0] == seen[-1][1] == 400.0
    assert len(seen[-1][2]) == 2


def test_a_cli_checkpoint_continues_in_python(tmp_path, cli):
    out = tmp_path / "run"
    cli("run", ISTDP, *set_args(), "--out", out, "--quiet")
    with pytest.raises(ValueError, match="pass config="):
        pbn.Simulation.restore(out / "checkpoint.bin")
    sim = pbn.Simulation.restore(out / "checkpoint.bin", config=out / "config.resolved.toml")
    assert sim.time_ms == 400.0
    run = pbn.load_run(out)
    assert np.array_equal(sim.final_weights("I_to_E")[2], run.final_weights("I_to_E")[2])
    sim.run(100.0)
    assert sim.time_ms == 500.0 and sim.spike_times_ms.min() > 400.0
