"""Theory equals `pbn theory --json`, neo/Elephant and pandas views agree with pbn's numbers,
configs come from paths, text and dicts, and bad input raises the CLI's message."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pbn
from conftest import EXAMPLES, ISTDP, REPO, SMALL, set_args, small


@pytest.mark.parametrize(
    "example, flags",
    [
        ("istdp_i_to_e.toml", ["--integrate-ms", "20000"]),
        ("kohonen.toml", ["--window-ms", "100", "--kappa", "0.5"]),
        ("correlated.toml", ["--fano", "1.2", "--finite-n"]),
    ],
)
def test_theory_equals_the_cli_json(tmp_path, cli, example, flags):
    out = tmp_path / "theory.json"
    cli("theory", EXAMPLES / example, "--set", "n=2000", *flags, "--json", out)
    want = json.loads(out.read_text())
    opts = {
        "--integrate-ms": ("integrate_ms", float),
        "--window-ms": ("window_ms", float),
        "--kappa": ("kappa", float),
        "--fano": ("fano", float),
    }
    kwargs, i = {}, 0
    while i < len(flags):
        if flags[i] == "--finite-n":
            kwargs["finite_n"] = True
            i += 1
        else:
            name, conv = opts[flags[i]]
            kwargs[name] = conv(flags[i + 1])
            i += 2
    got = pbn.theory(pbn.Config(str(EXAMPLES / example)).set("n", 2000), **kwargs)
    assert got.raw == want
    np.testing.assert_array_equal(got.rates_hz, want["rates_hz"])
    if "--integrate-ms" in flags:
        traj = got.trajectory
        assert traj["t_s"].shape[0] == traj["weights"].shape[0] == traj["rates_hz"].shape[0]
        fp = got.fixed_points[0]
        assert fp["stability"] == "stable_node" and np.iscomplexobj(fp["eigenvalues_per_s"])
        assert fp["weights"].shape == (1,)


def test_elephant_mean_firing_rate_on_to_neo_equals_pbn_rates():
    import quantities as pq
    from elephant.statistics import mean_firing_rate

    sim = pbn.Simulation(small()).run()
    block = sim.to_neo()
    trains = block.segments[0].spiketrains
    assert len(trains) == 800
    ours = sim.mean_rates_hz()
    for name, _, size in sim.populations:
        pop = [st for st in trains if st.annotations["population"] == name]
        assert len(pop) == size
        rates = [mean_firing_rate(st).rescale(pq.Hz).magnitude for st in pop]
        assert np.mean(rates) == pytest.approx(ours[name], rel=1e-12)
    # And the population-rate bins average to the same rates.
    t, r = sim.rates()
    assert r.mean(axis=0) == pytest.approx([ours["E"], ours["I"]], rel=1e-12)
    n_spikes = sum(len(st) for st in trains)
    assert n_spikes == len(sim.spike_ids)


def test_pandas_tables():
    sim = pbn.Simulation(small()).run()
    spikes = sim.spikes_df()
    assert list(spikes.columns) == ["t_ms", "id", "population"] and len(spikes) == len(sim.spike_ids)
    assert set(spikes.population) == {"E", "I"}
    rates = sim.rates_df()
    assert list(rates.columns) == ["E", "I"] and rates.index.name == "t_ms"
    w = sim.weights_df("I_to_E")
    assert list(w.columns) == ["mean", "std"] and w["mean"].iloc[0] == pytest.approx(-150.0, abs=1.0)
    f = sim.final_weights_df("I_to_E")
    assert len(f) > 10000 and (f.j < 0).all()


def test_configs_from_a_path_text_and_a_dict_are_the_same():
    by_path = pbn.Config(ISTDP)
    text = Path(ISTDP).read_text()
    assert pbn.Config(text).to_toml() == by_path.to_toml()
    assert pbn.Config(by_path.to_dict()).to_toml() == by_path.to_toml()
    assert pbn.Config(Path(ISTDP)).set("inputs.0.correlation", 0.1)["inputs.0.correlation"] == 0.1
    assert pbn.Config()["n"] == pbn.Config(str(EXAMPLES / "default.toml"))["n"]


@pytest.mark.parametrize(
    "sets",
    [
        ["n=0"],
        ["inputs.0.rate_hz=20000"],
        ["projections.1.plasticity.eta=-1"],
        ["projections.9.weight=1"],
        ["no_such_key=1"],
        ["dt_ms=50"],
    ],
)
def test_bad_configs_raise_the_cli_message(cli, sets):
    p = cli("config", "--check", ISTDP, *[a for s in sets for a in ("--set", s)], check=False)
    assert p.returncode == 2
    want = p.stderr.strip().removeprefix("error: ")
    cfg = pbn.Config(ISTDP)
    with pytest.raises(ValueError) as e:
        for s in sets:
            k, v = s.split("=")
            cfg.set(k, float(v) if "." in v else int(v))
    assert str(e.value).strip() == want


def test_bad_input_never_panics(tmp_path, cli):
    # A file that is not there: the CLI's words.
    missing = str(tmp_path / "nope.toml")
    p = cli("config", "--check", missing, check=False)
    with pytest.raises(ValueError) as e:
        pbn.Config(missing)
    assert str(e.value) == p.stderr.strip().removeprefix("error: ")
    with pytest.raises(OSError, match="meta.json"):
        pbn.load_run(tmp_path)
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a valid pbn checkpoint"):
        pbn.Simulation.restore(bad)
    sim = pbn.Simulation(small())
    with pytest.raises(ValueError, match="must be below 1000/dt_ms"):
        sim.set_input("X", 1e5)
    with pytest.raises(ValueError, match="correlation"):
        sim.set_input("X", 10.0, correlation=2.0)
    with pytest.raises(ValueError, match="no input `Y`"):
        sim.set_input("Y", 10.0)
    with pytest.raises(IndexError, match="no projection 17"):
        sim.set_plasticity(17, None)
    with pytest.raises(ValueError, match="projections.1.plasticity"):
        sim.set_plasticity("I_to_E", {"rule": "istdp", "eta": 1e-3})  # parameters missing
    with pytest.raises(ValueError, match="eta"):
        sim.set_plasticity("I_to_E", eta=-1.0)
    with pytest.raises(ValueError, match="finite"):
        sim.run(float("nan"))
    with pytest.raises(TypeError, match="cannot write"):
        small().set("n", object())
    # A network that leaves the balanced regime stops with the CLI's message.
    wild = small(ISTDP, [*SMALL, "projections.1.weight=-1", "projections.3.weight=-1"])
    with pytest.raises(pbn.SimulationError, match="runaway activity"):
        pbn.Simulation(wild).run()
    # Nothing above changed the simulation.
    assert sim.time_ms == 0.0 and sim.plasticity("I_to_E")["eta"] == 1e-3


def test_the_manifold_example_runs_and_saves_its_figure(tmp_path):
    env = {**os.environ, "PBN_EXAMPLE_QUICK": "1", "MPLBACKEND": "Agg"}
    script = REPO / "examples" / "python" / "manifold.py"
    p = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "manifold.png").stat().st_size > 10000
    assert "theory" in p.stdout


def test_analyze_equals_the_cli_analysis_json(tmp_path, cli):
    out = tmp_path / "run"
    cli("run", ISTDP, *set_args(), "--out", out, "--quiet")
    cli("analyze", out, "--from", "100", "--window", "50", "--quiet")
    want = json.loads((out / "analysis.json").read_text())
    got = pbn.analyze(out, t_from_ms=100.0, window_ms=50.0)
    assert got == want
    # A Run from load_run works the same, and the defaults are the CLI's.
    cli("analyze", out, "--quiet")
    assert pbn.analyze(pbn.load_run(out)) == json.loads((out / "analysis.json").read_text())
    with pytest.raises(ValueError, match="analysis window"):
        pbn.analyze(out, t_from_ms=300.0, t_to_ms=200.0)
    with pytest.raises(OSError, match="meta.json"):
        pbn.analyze(tmp_path)
