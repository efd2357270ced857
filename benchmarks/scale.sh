#!/usr/bin/env bash
# pbn at scale: N = 100,000 with p = 0.1 (1.2·10⁹ synapses with the input layer) and iSTDP on
# I→E, 1 simulated second, f32 and f64 state: construction time, wall s per simulated s,
# bytes per synapse and peak memory. Writes SCALE.md (~4 minutes on 2 cores, ~6 GB of memory).
# Usage: benchmarks/scale.sh [N] [threads]   (default 100000 2)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p pbn-cli
n="${1:-100000}"; threads="${2:-2}"
out=benchmarks/SCALE.md
{
  echo "# pbn at N = $n (\`pbn bench\` network), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB;"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg). $threads threads, 1 s simulated, p = 0.1 for every projection."
  echo "Build: connectivity drawn in parallel per presynaptic neuron and stored per chunk (no dense"
  echo "structure). Peak memory: the whole process (resident, VmHWM)."
  echo
  echo "| state | synapses | build s | run s | wall s / sim s | synaptic events / s | B / static synapse | B / plastic synapse | peak GiB | E Hz | I Hz |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for p in f32 f64; do
    target/release/pbn bench --n "$n" --threads "$threads" --duration-ms 1000 --precision "$p" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(f\"| {r['precision']} | {r['synapses']:.3e} | {r['build_s']:.1f} | {r['run_s']:.1f} | {r['wall_s_per_simulated_s']:.1f} | {r['synaptic_events_per_s']:.2e} | {r['bytes_per_static_synapse']:.2f} | {r['bytes_per_plastic_synapse']:.2f} | {r['peak_rss_mib'] / 1024:.2f} | {r['rates_hz'][0]:.2f} | {r['rates_hz'][1]:.2f} |\")"
  done
} > "$out"
cat "$out"
