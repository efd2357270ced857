"""pbn on the benchmark network.

    python pbn_bench.py time  --threads 1 --json out/pbn_t1_r1.json     # `pbn bench --json`
    python pbn_bench.py rates --seed 3 --json out/pbn_rates_s3.json     # `pbn run`, rates per window

`time` runs `pbn bench --json --threads K --duration-ms T --precision P` (examples/istdp_i_to_e.toml with
inputs.0.correlation = 0.1, seed 1, no spike recording; `run_s` excludes network construction)
and adds its output to the JSON. `rates` runs `pbn run` on the same config and the same
overrides with another seed and spike recording, for the seed-to-seed spread that the rate check
uses as "noise". The binary is $PBN or target/release/pbn.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def pbn_binary():
    return os.environ.get("PBN", os.path.join(ROOT, "target", "release", "pbn"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["time", "rates"])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--duration-ms", type=float, default=10000.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1, help="rates mode only (pbn bench uses seed 1)")
    ap.add_argument("--precision", choices=["f64", "f32"], default="f64", help="voltages and currents")
    ap.add_argument("--correlation", type=float, default=C.CORRELATION, help="rates mode: input correlation c")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    pbn = pbn_binary()
    version = subprocess.run([pbn, "--version"], capture_output=True, text=True).stdout.strip()
    ne, ni, _ = C.sizes(args.n)

    if args.mode == "time":
        cmd = [pbn, "bench", "--json", "--n", str(args.n), "--threads", str(args.threads),
               "--duration-ms", repr(args.duration_ms), "--precision", args.precision]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        process_s = time.perf_counter() - t0
        res = json.loads(out.strip().splitlines()[-1])
        res.update(simulator="pbn", version=version, command=" ".join(cmd[1:]), process_s=process_s,
                   seed=1, machine=C.machine_info())
        print(f"pbn bench {args.precision} threads={args.threads}: run {res['run_s']:.3f} s for {res['simulated_s']:g} s "
              f"simulated ({res['wall_s_per_simulated_s']:.4f} s/s), rates E {res['rates_hz'][0]:.2f} "
              f"I {res['rates_hz'][1]:.2f} Hz", flush=True)
    else:
        out_dir = os.path.join(HERE, "out", "pbn_runs",
                               f"{args.precision}_s{args.seed}_T{int(args.duration_ms)}_c{args.correlation:g}")
        shutil.rmtree(out_dir, ignore_errors=True)  # pbn refuses to overwrite a run directory
        cmd = [pbn, "run", os.path.join(ROOT, "examples", "istdp_i_to_e.toml"), "--quiet",
               "--out", out_dir, "--seed", str(args.seed), "--threads", str(args.threads),
               "--set", f"n={args.n}", "--set", f"duration_ms={args.duration_ms!r}",
               "--set", f"inputs.0.correlation={args.correlation!r}", "--set", f"precision={args.precision}"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        meta = json.load(open(os.path.join(out_dir, "meta.json")))
        t = np.load(os.path.join(out_dir, "spike_times_ms.npy"))
        i = np.load(os.path.join(out_dir, "spike_ids.npy"))
        T = meta["simulated_ms"]
        w = meta["summary"]["plastic_weights"]["I_to_E"]
        res = {
            "simulator": "pbn", "precision": args.precision, "version": version, "command": " ".join(cmd[1:]), "n": args.n,
            "seed": args.seed, "simulated_s": T * 1e-3, "correlation": args.correlation,
            "rates_hz": C.rates_from_spikes(t, i, ne, ni, 0.0, T),
            "rates_window_hz": C.rates_from_spikes(t, i, ne, ni, 0.0, min(T, C.RATE_WINDOW_MS)),
            "rate_window_ms": min(T, C.RATE_WINDOW_MS),
            "w_ei_mean_final": w["mean"], "w_ei_std_final": w["std"],
        }
        print(f"pbn run {args.precision} seed={args.seed}: rates E {res['rates_hz'][0]:.2f} I {res['rates_hz'][1]:.2f} Hz, "
              f"first {res['rate_window_ms'] / 1000:g} s E {res['rates_window_hz'][0]:.2f} "
              f"I {res['rates_window_hz'][1]:.2f} Hz, mean j_EI {w['mean']:.2f}", flush=True)
    if args.json:
        C.write_json(args.json, res)


if __name__ == "__main__":
    main()
