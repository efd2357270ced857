"""The iSTDP fixed-point manifold from Python (docs/python.md; the paper's Fig 7).

One network with homeostatic iSTDP on I→E (examples/istdp_i_to_e.toml) is started from two
initial I→E weights. Each is primed for a second without plasticity (the balanced state of its
initial weight), then iSTDP is switched on. Both drive the E rate to ρ_e = 10 Hz, but the final
mean weight remembers the start: the fixed points form a manifold (docs/theory.md §4.7). The
leading-order theory (pbn.theory) has one fixed point, and its weight ODE is drawn from each
start; corrected by the rate–weight covariance D = p q_i Cov(j_ei, r_i) measured in each run (the
same D as `pbn theory --correction-from RUN`), the fixed point moves the way that run went.

    python examples/python/manifold.py [--out DIR]      # N = 2000, 60 s per start: ~10 s
    PBN_EXAMPLE_QUICK=1 python examples/python/manifold.py   # N = 1000, 30 s per start: a few seconds
"""

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import pbn  # noqa: E402

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "istdp_i_to_e.toml"


def correction(sim: pbn.Simulation, t_from_ms: float) -> float:
    """D_E = p q_I Cov(j_ei, r_i) (weight·kHz) from the final weights and late rates."""
    pre, post, j = sim.final_weights("I_to_E")
    t, ids = sim.spikes()
    keep = t > t_from_ms
    n = sum(p[2] for p in sim.populations)
    counts = np.bincount(ids[keep], minlength=n)
    rate_khz = counts / (sim.time_ms - t_from_ms)
    cfg = sim.config
    p = cfg["projections.1.probability"]
    q_i = [pop for pop in sim.populations if pop[0] == "I"][0][2] / n
    r = rate_khz[pre]
    return p * q_i * float(np.mean((j - j.mean()) * (r - r.mean())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for manifold.png")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    quick = os.environ.get("PBN_EXAMPLE_QUICK") == "1"
    n, learn_ms, prime_ms = (1000, 30_000.0, 500.0) if quick else (2000, 60_000.0, 1000.0)

    starts = [-250.0, -55.0]
    fig, (ax_w, ax_r) = plt.subplots(1, 2, figsize=(11, 4.2))
    for k, j0 in enumerate(starts):
        cfg = (
            pbn.Config(CONFIG)
            .set("n", n)
            .set("projections.1.weight", j0)
            .set("projections.1.plasticity.eta", 0.01)
            .set("record.weight_interval_ms", 100.0)
        )
        sim = pbn.Simulation(cfg, threads=args.threads)
        sim.set_plasticity("I_to_E", None)  # prime: the balanced state of the initial weight
        sim.run(prime_ms)
        sim.set_plasticity("I_to_E", enabled=True)  # then switch iSTDP on
        sim.run(learn_ms)

        w = sim.weights("I_to_E")
        t_s = w["t_ms"] * 1e-3
        final = w["mean"][-1]
        late = sim.mean_rates_hz(prime_ms + 0.75 * learn_ms, prime_ms + learn_ms)
        # The theory of the same config: the weight ODE from j0 (leading order) and the fixed
        # point corrected by the covariance this run measured.
        th = pbn.theory(cfg, integrate_ms=learn_ms)
        d = correction(sim, prime_ms + 0.5 * learn_ms)
        corrected = pbn.theory(cfg, correction=[d, 0.0])
        fixed = th.fixed_points[0]["weights"][0]
        fixed_corrected = corrected.fixed_points[0]["weights"][0]
        print(
            f"start {j0:7.1f}: final mean j_ei {final:8.2f}, E {late['E']:5.2f} Hz, I {late['I']:5.2f} Hz | "
            f"theory: fixed point {fixed:.2f} (leading order), {fixed_corrected:.2f} with D = {d:+.3e}"
        )
        color = f"C{k}"
        ax_w.plot(t_s, w["mean"], color=color, label=f"simulation, j(0) = {j0:g}")
        traj = th.trajectory
        if traj is not None:
            t_theory = prime_ms * 1e-3 + traj["t_s"]
            ax_w.plot(t_theory, traj["weights"][:, 0], "--", color=color, label="theory ODE (leading order)")
        else:
            print(f"  (no ODE from {j0:g}: {th.raw['plasticity'].get('trajectory_error')})")
        ax_w.axhline(fixed_corrected, color=color, ls=":", label="fixed point with measured D")
        rt, rates = sim.rates()
        ax_r.plot(rt * 1e-3, rates[:, 0], color=color, alpha=0.8, label=f"E, j(0) = {j0:g}")
    ax_w.axhline(fixed, color="k", lw=0.8, label="leading-order fixed point")
    ax_w.axvline(prime_ms * 1e-3, color="grey", lw=0.5)
    ax_w.set(xlabel="time (s)", ylabel="mean I→E weight j_ei", title="iSTDP switched on after priming")
    ax_w.legend(fontsize=7)
    ax_r.axhline(10.0, color="k", lw=0.8, ls="--", label="ρ_e = 10 Hz")
    ax_r.set(xlabel="time (s)", ylabel="E rate (Hz)", title="every start reaches ρ_e")
    ax_r.legend(fontsize=7)
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "manifold.png", dpi=120)
    print(f"wrote {out / 'manifold.png'}")


if __name__ == "__main__":
    main()
