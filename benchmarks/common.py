"""Shared parameters and helpers for the pbn / Brian2 / reference benchmark.

The benchmark network is the one `pbn bench` runs (examples/istdp_i_to_e.toml with input
correlation c = 0.1): docs/model.md §2 defaults, EIF neurons, exponential currents with jump J/tau,
forward Euler with dt = 0.1 ms, an external layer of 0.2 N Poisson trains at 10 Hz with
correlation c (mother process thinned with probability c, Gaussian jitter 5 ms), and
homeostatic iSTDP on I->E (docs/plasticity.md R6). Weights are unscaled j; simulated weights are j/sqrt(N).
"""

import json
import math
import os
import platform
import subprocess

import numpy as np

# --- docs/model.md §2 defaults (units: mV, ms, mV/ms; C_m = 1) -----------------------------------------
FRAC_E = 0.8
FRAC_X = 0.2
P = 0.1
DT_MS = 0.1
CM = 1.0
GL = 1.0 / 15.0
EL = -72.0
VT = -55.0
DELTA_T = 1.0
VTH = -50.0
VRE = -75.0
TAU_E, TAU_I, TAU_X = 8.0, 4.0, 10.0
J = dict(ee=25.0, ei=-150.0, ie=112.5, ii=-250.0, ex=180.0, ix=135.0)  # j_ab: post a, pre b
RATE_X_HZ = 10.0
CORRELATION = 0.1
TAU_JITTER_MS = 5.0

# --- iSTDP on I->E (docs/plasticity.md R6) -------------------------------------------------------------------
ETA = 1e-3            # code units (the reference code's eta)
J_NORM_EI = -200.0    # normalising weight ĵ_norm (unscaled, sign of the synapse)
RHO_E_HZ = 10.0       # target E rate
TAU_STDP_MS = 200.0
ALPHA_E = 2.0 * RHO_E_HZ * 1e-3 * TAU_STDP_MS  # = 4 (rate in kHz times ms)

# window over which rates are compared between simulators (all runs are at least this long)
RATE_WINDOW_MS = 2000.0


def sizes(n):
    ne = int(round(FRAC_E * n))
    return ne, n - ne, int(round(FRAC_X * n))


def correlated_poisson(nx, duration_ms, rate_hz, c, tau_jitter_ms, rng):
    """External spikes as docs/model.md §2.5 (mother process, thinning, jitter); c = 0 -> independent.

    Returns (times_ms, ids) sorted by time, times in (0, T)."""
    rx = rate_hz * 1e-3  # kHz
    if c < 1e-5:
        n = rng.poisson(nx * rx * duration_ms)
        t = rng.uniform(0.0, duration_ms, n)
        ids = rng.integers(0, nx, n)
    else:
        nm = rng.poisson(rx / c * duration_ms)
        mother = rng.uniform(0.0, duration_ms, nm)
        ts, idss = [], []
        for j in range(nx):
            k = rng.binomial(nm, c)
            st = mother[rng.choice(nm, size=k, replace=False)]
            st = st + tau_jitter_ms * rng.standard_normal(k)
            st = st[(st > 0.0) & (st < duration_ms)]
            ts.append(st)
            idss.append(np.full(st.size, j, dtype=np.int64))
        t = np.concatenate(ts)
        ids = np.concatenate(idss)
    order = np.lexsort((ids, t))
    return t[order], ids[order]


def rates_from_spikes(t_ms, ids, ne, ni, t0_ms, t1_ms):
    """Population rates (Hz) of E (ids < ne) and I over [t0, t1)."""
    t_ms = np.asarray(t_ms)
    ids = np.asarray(ids)
    sel = (t_ms >= t0_ms) & (t_ms < t1_ms)
    span_s = (t1_ms - t0_ms) * 1e-3
    e = np.count_nonzero(sel & (ids < ne)) / (ne * span_s)
    i = np.count_nonzero(sel & (ids >= ne)) / (ni * span_s)
    return [e, i]


def machine_info():
    info = {"platform": platform.platform(), "python": platform.python_version()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor"):
                info[k.strip()] = v.strip()
    except OSError:
        pass
    info["loadavg"] = os.getloadavg()
    return info


def write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, default=float)
        f.write("\n")


def sqrt_n(n):
    return math.sqrt(n)
