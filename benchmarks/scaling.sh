#!/usr/bin/env bash
# pbn alone: wall seconds per simulated second, synaptic events per second, memory and the
# per-phase cost model as N grows (the `pbn bench` network: defaults + iSTDP on I→E, c = 0.1),
# f64 and f32 neuron state, one and two threads.
# Writes SCALING.md. Usage: benchmarks/scaling.sh [N ...]   (default 1000 2000 5000 10000 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p pbn-cli
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 2000 5000 10000 20000)
out=benchmarks/SCALING.md
# Simulated time per N: long enough to time, short enough for the large networks.
duration_ms() { if [ "$1" -le 5000 ]; then echo 10000; elif [ "$1" -le 10000 ]; then echo 4000; else echo 2000; fi; }
{
  echo "# pbn scaling (\`pbn bench\` network), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Simulated time: 10 s for N ≤ 5000, 4 s for N = 10000, 2 s above; wall time of the run only (construction separate)."
  echo "Bytes per synapse: all synapse arrays (row pointers, one-byte target gaps; plastic: f64 weight and the backward"
  echo "index) over the synapse count. Peak memory: the whole process (resident)."
  echo
  echo "| N | synapses | state | threads | build s | wall s / sim s | synaptic events / s | B / static synapse | B / plastic synapse | peak MiB | E Hz | I Hz |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for n in "${sizes[@]}"; do
    d=$(duration_ms "$n")
    for p in f64 f32; do
      for t in 1 2; do
        target/release/pbn bench --n "$n" --threads "$t" --duration-ms "$d" --precision "$p" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(f\"| {r['n']} | {r['synapses']:.2e} | {r['precision']} | {r['threads']} | {r['build_s']:.2f} | {r['wall_s_per_simulated_s']:.4f} | {r['synaptic_events_per_s']:.2e} | {r['bytes_per_static_synapse']:.2f} | {r['bytes_per_plastic_synapse']:.2f} | {r['peak_rss_mib']:.0f} | {r['rates_hz'][0]:.2f} | {r['rates_hz'][1]:.2f} |\")"
      done
    done
  done
  echo
  echo "## Where the time goes (\`pbn bench --profile\`, 1 thread)"
  echo
  echo "Wall seconds per simulated second in each phase of a step (share of the run in parentheses)."
  echo
  echo "| N | state | input generation | input delivery | neuron update | static delivery | plastic delivery | post-spike updates | traces and reset | recording |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for n in "${sizes[@]}"; do
    d=$(duration_ms "$n")
    for p in f64 f32; do
      target/release/pbn bench --n "$n" --threads 1 --duration-ms "$d" --precision "$p" --profile --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
p = r['profile_s']; tot = sum(p.values())
order = ['input_generation', 'input_delivery', 'neuron_update', 'static_delivery', 'plastic_delivery', 'post_spike_updates', 'traces_and_reset', 'recording']
cells = [f\"{p[k] / r['simulated_s']:.4f} ({100 * p[k] / tot:.0f} %)\" for k in order]
print(f\"| {r['n']} | {r['precision']} | \" + ' | '.join(cells) + ' |')"
    done
  done
} > "$out"
cat "$out"
