#!/usr/bin/env bash
# Cost of checkpoints: a plastic N = 5000 run (iSTDP on I→E, 60 simulated s) with the default
# interval, with one every simulated second, and with only the final one; the time the run spent
# on checkpoints (from meta.json: copying the state, flushing the arrays, waiting for the previous
# checkpoint's background write) against its stepping time, and the wall time of each whole run.
# Writes CHECKPOINT.md (~1 minute on 2 cores).
# Usage: benchmarks/checkpoint.sh [N] [duration_ms]   (default 5000 60000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p pbn-cli
n="${1:-5000}"; duration="${2:-60000}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=benchmarks/CHECKPOINT.md
{
  echo "# Checkpoint cost at N = $n, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "examples/istdp_i_to_e.toml, ${duration} ms simulated, 1 thread; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| interval (ms) | checkpoints | checkpoint size (MB) | time on checkpoints (s) | stepping (s) | share of the run | whole process wall (s) |"
  echo "|---|---|---|---|---|---|---|"
  for every in 10000 1000 0; do
    start=$(date +%s.%N)
    target/release/pbn run examples/istdp_i_to_e.toml --set n="$n" --set duration_ms="$duration" \
      --checkpoint-every-ms "$every" --quiet --out "$tmp/run-$every"
    end=$(date +%s.%N)
    python3 - "$tmp/run-$every" "$every" "$start" "$end" <<'PY'
import json, os, sys
d, every, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
t = json.load(open(f"{d}/meta.json"))["timings"]
size = os.path.getsize(f"{d}/checkpoint.bin") / 1e6
label = "default (10000)" if every == "10000" else ("final only (0)" if every == "0" else every)
print(f"| {label} | {t['checkpoints']} | {size:.2f} | {t['checkpoint_s']:.3f} | {t['run_s']:.2f} | {100 * t['checkpoint_s'] / t['run_s']:.2f} % | {end - start:.2f} |")
PY
  done
} > "$out"
cat "$out"
