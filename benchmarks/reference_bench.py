"""The reference package `plastic-balanced-network` 0.0.6, run as it is, on the benchmark network.

    python reference_bench.py --seed 1 --duration-ms 2000 --json out/ref_s1.json

The 0.0.6 wheel's `__init__.py` reads a VERSION file that the wheel does not ship, so
`import plastic_balanced_network` fails; this script loads the package's `network.py` directly
(importlib, from the installed site-packages path) and calls the public methods
`PlasticNeuralNetwork(N, T, ...)`, `.connectivity(...)`, `.ffwd_spikes(...)`, `.simulate(...)`.

Parameter mapping: all docs/model.md §2 values are the package defaults. The package hard-codes the
I->E normalising weight ĵ_norm = -150 (docs/plasticity.md §3.6 item 5) while the benchmark uses -200; the
rule only depends on eta/ĵ_norm, so passing eta_ei = 1e-3 * 150/200 = 7.5e-4 gives exactly the
benchmark's rule. rho_ei = 0.010 kHz (10 Hz), tauSTDP = 200 ms (package defaults). Known
deviations of the package (docs/plasticity.md §3.6): external neuron 0 never fires (999 of 1000 active),
the first I neuron's kicks are filtered as excitatory, the last spike is dropped; all are far below
the noise of the rate comparison. Timing: `simulate_s` is the wall time of `.simulate()` (its
time-step loop, which also records currents/weights every step, as the package always does).
"""

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402


def load_network_module():
    spec = importlib.util.find_spec("plastic_balanced_network")  # finds, does not execute __init__
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("plastic_balanced_network is not installed in this environment")
    pkg_dir = list(spec.submodule_search_locations)[0]
    path = os.path.join(pkg_dir, "network.py")
    mspec = importlib.util.spec_from_file_location("pbn_reference_network", path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod, path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--duration-ms", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--correlation", type=float, default=C.CORRELATION)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import random2
    from importlib.metadata import version

    net_mod, path = load_network_module()
    np.random.seed(args.seed)
    random2.seed(args.seed)
    n, T = args.n, args.duration_ms
    ne, ni, nx = C.sizes(n)

    t0 = time.perf_counter()
    pnn = net_mod.PlasticNeuralNetwork(N=n, T=T, frac_exc=C.FRAC_E, frac_ext=C.FRAC_X, dt=C.DT_MS,
                                       jestim=0, jistim=0, nBinsRecord=10)
    pnn.connectivity(jee=C.J["ee"], jie=C.J["ie"], jei=C.J["ei"], jii=C.J["ii"], jex=C.J["ex"],
                     jix=C.J["ix"], p_ee=C.P, p_ie=C.P, p_ei=C.P, p_ii=C.P, p_ex=C.P, p_ix=C.P)
    connectivity_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pnn.ffwd_spikes(T=T, cx=args.correlation, rx=C.RATE_X_HZ * 1e-3, taujitter=C.TAU_JITTER_MS)
    ffwd_s = time.perf_counter() - t0

    eta_ei = C.ETA * (-150.0) / C.J_NORM_EI  # package's Jnorm_ei is -150/sqrt(N); see docstring
    t0 = time.perf_counter()
    out = pnn.simulate(Cm=C.CM, gL=C.GL, VT=C.VT, Vre=C.VRE, Vth=C.VTH, EL=C.EL, DeltaT=C.DELTA_T,
                       taue=C.TAU_E, taui=C.TAU_I, taux=C.TAU_X, tauSTDP=C.TAU_STDP_MS,
                       eta_ei=eta_ei, rho_ei=C.RHO_E_HZ * 1e-3)
    simulate_s = time.perf_counter() - t0
    s = out[0]

    Jei = pnn.J[0:ne, ne:n]
    w = Jei[Jei != 0] * np.sqrt(n)
    sim_s = T * 1e-3
    res = {
        "simulator": "reference",
        "package": "plastic-balanced-network " + version("plastic-balanced-network"),
        "network_py": path,
        "n": n,
        "seed": args.seed,
        "correlation": args.correlation,
        "simulated_s": sim_s,
        "simulate_s": simulate_s,
        "wall_s_per_simulated_s": simulate_s / sim_s,
        "connectivity_s": connectivity_s,
        "ffwd_spikes_s": ffwd_s,
        "x_spikes": int(pnn.nspikeX),
        "rates_hz": C.rates_from_spikes(s[0], s[1], ne, ni, 0.0, T),
        "rates_window_hz": C.rates_from_spikes(s[0], s[1], ne, ni, 0.0, min(T, C.RATE_WINDOW_MS)),
        "rate_window_ms": min(T, C.RATE_WINDOW_MS),
        "w_ei_mean_final": float(w.mean()),
        "w_ei_std_final": float(w.std()),
        "machine": C.machine_info(),
    }
    print(f"reference seed={args.seed}: simulate {simulate_s:.2f} s for {sim_s:g} s simulated "
          f"({res['wall_s_per_simulated_s']:.2f} s/s; connectivity {connectivity_s:.1f} s, input "
          f"{ffwd_s:.1f} s), rates E {res['rates_hz'][0]:.2f} I {res['rates_hz'][1]:.2f} Hz, "
          f"mean j_EI {res['w_ei_mean_final']:.2f}", flush=True)
    if args.json:
        C.write_json(args.json, res)


if __name__ == "__main__":
    main()
