"""The pbn benchmark network written in Brian2, run in C++ standalone mode.

    python brian2_bench.py --threads 1 --seed 1 --duration-ms 10000 --json out/brian2_t1_s1.json

--threads K sets prefs.devices.cpp_standalone.openmp_threads = K (0 = Brian2's default build
without OpenMP). Timing: `run_wall_s` is the wall time of the network run inside the generated
binary (std::chrono around Network::run, inserted with device.insert_code), i.e. without code
generation, compilation and synapse creation; `last_run_time_s` is Brian2's own figure (CPU time
without OpenMP, omp_get_wtime wall time with OpenMP); `binary_s` is the whole binary (includes
synapse creation and writing results); `compile_s` the make step.

The step order reproduces docs/model.md §2.7 exactly:
  before_groups  X spikes of this step kick I_x (X pathway moved from the 'synapses' slot),
  groups         Euler update of V only (currents are parameters here),
  thresholds     V >= V_th,
  synapses       recurrent kicks J/tau with weights before plasticity, then iSTDP (pre, then post),
                 using traces before this step's increments,
  resets         V = V_re, x += 1,
  end            Euler decays I_b -= dt I_b / tau_b, x -= dt x / tau_STDP.
so a recurrent kick decays once before its first use and an X kick is used in the step it arrives,
as in the reference code. External spikes are generated in NumPy (docs/model.md §2.5) and fed through a
SpikeGeneratorGroup; a spike at time t is delivered at reference step i = ceil(t/dt) (t in
(t_{i-1}, t_i]), i.e. emitted by the generator one Brian2 step earlier. A neuron's second spike in
the same 0.1 ms bin (Brian2 allows one) is dropped; the count is reported (~0.05% of X spikes).
"""

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--duration-ms", type=float, default=10000.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="openmp_threads (0 = no OpenMP)")
    ap.add_argument("--correlation", type=float, default=C.CORRELATION)
    ap.add_argument("--build-dir", default=None, help="standalone project directory")
    ap.add_argument("--json", default=None, help="write the result here")
    args = ap.parse_args()

    import brian2
    from brian2 import (Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, Synapses, device, ms,
                        prefs, seed, set_device)

    here = os.path.dirname(os.path.abspath(__file__))
    build_dir = args.build_dir or os.path.join(here, "out", f"brian2_build_t{args.threads}")
    set_device("cpp_standalone", directory=build_dir, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = args.threads
    prefs.codegen.cpp.headers += ["<chrono>", "<fstream>"]
    seed(args.seed)

    n = args.n
    ne, ni, nx = C.sizes(n)
    sn = math.sqrt(n)
    dt = C.DT_MS
    T = args.duration_ms
    nsteps = int(round(T / dt))

    # External spikes (NumPy, deterministic from the seed), quantised to the reference's steps.
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    xt, xi = C.correlated_poisson(nx, T, C.RATE_X_HZ, args.correlation, C.TAU_JITTER_MS, rng)
    step = np.ceil(xt / dt).astype(np.int64)          # reference step i with t in (t_{i-1}, t_i]
    keep = (step >= 1) & (step <= nsteps)
    step, xi = step[keep], xi[keep]
    emit = np.maximum(step - 2, 0)                     # Brian2 step n = i - 1; emitted one step before
    key = emit * nx + xi
    key_u, first = np.unique(key, return_index=True)
    dropped = int(key.size - key_u.size)
    emit, xi = emit[first], xi[first]
    x_gen_s = time.perf_counter() - t0

    defaults = dict(gL=C.GL, EL=C.EL, VT=C.VT, DT=C.DELTA_T, Vth=C.VTH, Vre=C.VRE)
    eqs = """
    dv/dt = (gL*(EL - v) + gL*DT*exp((v - VT)/DT) + Ie + Ii + Ix) / ms : 1
    Ie : 1
    Ii : 1
    Ix : 1
    x : 1
    """
    G = NeuronGroup(n, eqs, threshold="v >= Vth", reset="v = Vre\nx += 1", method="euler",
                    namespace=defaults, name="neurons")
    G.v = "Vre + rand()*(VT - Vre)"
    decay = (f"Ie -= {dt / C.TAU_E!r}*Ie\nIi -= {dt / C.TAU_I!r}*Ii\nIx -= {dt / C.TAU_X!r}*Ix\n"
             f"x -= {dt / C.TAU_STDP_MS!r}*x")
    G.run_regularly(decay, when="end", name="decays")
    E, I = G[:ne], G[ne:]

    X = SpikeGeneratorGroup(nx, xi, emit * dt * ms, sorted=True, name="xinput")

    def static(src, dst, j, tau, var, name):
        s = Synapses(src, dst, on_pre=f"{var}_post += {j / sn / tau!r}", name=name)
        s.connect(p=C.P)
        return s

    S_ee = static(E, E, C.J["ee"], C.TAU_E, "Ie", "ee")
    S_ie = static(E, I, C.J["ie"], C.TAU_E, "Ie", "ie")
    S_ii = static(I, I, C.J["ii"], C.TAU_I, "Ii", "ii")
    S_ex = static(X, E, C.J["ex"], C.TAU_X, "Ix", "ex")
    S_ix = static(X, I, C.J["ix"], C.TAU_X, "Ix", "ix")
    for s in (S_ex, S_ix):
        s.pre.when = "before_groups"   # X spikes of step i act on V at step i (docs/model.md §2.7 step 1)

    # iSTDP on I->E: weights w are scaled (j / sqrt N); eta_n = eta / (j_norm / sqrt N).
    eta_n = C.ETA / (C.J_NORM_EI / sn)
    S_ei = Synapses(
        I, E, model="w : 1",
        on_pre=f"Ii_post += w/{C.TAU_I!r}\nw = w - {eta_n!r}*(x_post - {C.ALPHA_E!r})*w",
        on_post=f"w = w - {eta_n!r}*x_pre*w",
        name="ei")
    S_ei.connect(p=C.P)
    S_ei.w = C.J["ei"] / sn

    mon = SpikeMonitor(G, name="spikes")
    net = Network(G, X, S_ee, S_ie, S_ii, S_ex, S_ix, S_ei, mon)

    device.insert_code("before_network_run",
                       "auto _pbn_bench_t0 = std::chrono::steady_clock::now();")
    device.insert_code(
        "after_network_run",
        "{ double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - _pbn_bench_t0).count();"
        " std::ofstream f(\"wall_run_s.txt\"); f.precision(9); f << s << std::endl; }")
    net.run(T * ms, namespace={})

    t0 = time.perf_counter()
    device.build(directory=build_dir, compile=True, run=False, with_output=False)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    device.run(directory=build_dir, with_output=False)
    binary_s = time.perf_counter() - t0
    with open(os.path.join(build_dir, "wall_run_s.txt")) as f:
        run_wall_s = float(f.read())

    # Brian2 step n is the reference's step n + 1 (time (n + 1) dt).
    st = np.asarray(mon.t / ms) + dt
    si = np.asarray(mon.i)
    w_final = np.asarray(S_ei.w) * sn
    sim_s = T * 1e-3
    res = {
        "simulator": "brian2",
        "brian2_version": brian2.__version__,
        "mode": "cpp_standalone",
        "openmp_threads": args.threads,
        "n": n,
        "seed": args.seed,
        "correlation": args.correlation,
        "simulated_s": sim_s,
        "run_wall_s": run_wall_s,
        "wall_s_per_simulated_s": run_wall_s / sim_s,
        "last_run_time_s": float(device._last_run_time),
        "binary_s": binary_s,
        "build_and_compile_s": build_s,
        "compile_s": device.timers["compile"],
        "x_generation_s": x_gen_s,
        "x_spikes": int(xi.size),
        "x_spikes_dropped_same_bin": dropped,
        "synapses": int(sum(len(s) for s in (S_ee, S_ie, S_ii, S_ex, S_ix, S_ei))),
        "rates_hz": C.rates_from_spikes(st, si, ne, ni, 0.0, T),
        # (A run shorter than the window is counted over its own length, as pbn's and the reference's.)
        "rates_window_hz": C.rates_from_spikes(st, si, ne, ni, 0.0, min(T, C.RATE_WINDOW_MS)),
        "rate_window_ms": min(T, C.RATE_WINDOW_MS),
        "w_ei_mean_final": float(w_final.mean()),
        "w_ei_std_final": float(w_final.std()),
        "machine": C.machine_info(),
    }
    print(f"brian2 openmp_threads={args.threads} seed={args.seed}: run {run_wall_s:.3f} s wall for "
          f"{sim_s:g} s simulated ({res['wall_s_per_simulated_s']:.3f} s/s; Brian2's own "
          f"{res['last_run_time_s']:.3f} s), rates E {res['rates_hz'][0]:.2f} I {res['rates_hz'][1]:.2f} Hz, "
          f"first {res['rate_window_ms'] / 1000:g} s E {res['rates_window_hz'][0]:.2f} I "
          f"{res['rates_window_hz'][1]:.2f} Hz, mean j_EI {res['w_ei_mean_final']:.2f}, "
          f"build+compile {build_s:.1f} s", flush=True)
    if args.json:
        C.write_json(args.json, res)


if __name__ == "__main__":
    main()
