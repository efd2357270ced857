#!/usr/bin/env bash
# The Python path against `pbn run` on the same simulation: N = 5000, iSTDP on I→E
# (examples/istdp_i_to_e.toml), 20 s simulated, one thread, run in alternation (A B A B …) so
# that drifts of the machine's speed hit both. Python start-up, the NumPy import, building the
# network and fetching spikes and final weights are included on the Python side; writing the
# run directory on the CLI side. Writes PYTHON.md.
# Usage: benchmarks/python_overhead.sh [pairs]   (default 5; needs python3 ≥ 3.11 and PyPI
# access the first time; PBN_VENV=DIR reuses a virtual environment with the package installed)
set -euo pipefail
cd "$(dirname "$0")/.."
pairs="${1:-5}"
cargo build --release -q -p pbn-cli
pbn="${CARGO_TARGET_DIR:-target}/release/pbn"
venv="${PBN_VENV:-$(mktemp -d)/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet ./python
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/run.py" <<'PY'
import pbn
sim = pbn.Simulation(pbn.Config("examples/istdp_i_to_e.toml").set("n", 5000).set("duration_ms", 20000))
sim.run(progress=False)
t, ids = sim.spikes()
pre, post, j = sim.final_weights("I_to_E")
PY
now() { date +%s.%N; }
py=(); cli=()
for k in $(seq 1 "$pairs"); do
  s=$(now); "$venv/bin/python" "$tmp/run.py"; py+=("$(echo "$(now) - $s" | bc)")
  s=$(now); "$pbn" run examples/istdp_i_to_e.toml --set n=5000 --set duration_ms=20000 --quiet --out "$tmp/run-$k"
  cli+=("$(echo "$(now) - $s" | bc)")
done
load="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "${py[*]}" "${cli[*]}" "$load" <<'PY' | tee benchmarks/PYTHON.md
import statistics, sys
py = [float(x) for x in sys.argv[1].split()]
cli = [float(x) for x in sys.argv[2].split()]
ratios = [a / b for a, b in zip(py, cli)]
print("# Python against `pbn run`: N = 5000, iSTDP I→E, 20 s simulated, 1 thread\n")
print(f"{len(py)} pairs in alternation; wall seconds of the whole process; load average at the end {sys.argv[3]}.\n")
print("| | median (s) | min | max |")
print("|---|---|---|---|")
print(f"| Python (`pbn.Simulation(...).run()`, spikes and final weights fetched) | {statistics.median(py):.2f} | {min(py):.2f} | {max(py):.2f} |")
print(f"| `pbn run` (run directory written) | {statistics.median(cli):.2f} | {min(cli):.2f} | {max(cli):.2f} |")
print(f"\nRatio Python / CLI, pair by pair: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}).")
PY
