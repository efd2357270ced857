#!/usr/bin/env bash
# pbn vs Brian2 (C++ standalone) vs plastic-balanced-network 0.0.6 on the `pbn bench` network.
# Installs everything (venv under benchmarks/.venv), builds pbn, runs all simulators interleaved
# (round 1: pbn, Brian2, reference; round 2: again; ...), checks rates, writes RESULTS.md.
#
#   benchmarks/run_all.sh                 # everything (~15-25 min on 2 cores)
#   ROUNDS=1 T_MS=2000 benchmarks/run_all.sh   # quick smoke run
#
# Environment knobs (defaults): ROUNDS=3  N=5000  T_MS=10000 (pbn, Brian2)  T_REF_MS=2000 (reference)
# PBN_THREADS="1 2"  PBN_PRECISIONS="f64 f32"  F32_CHECK_SEEDS=3  BRIAN_THREADS="0 1 2" (openmp_threads; 0 = no OpenMP)  NOISE_SEEDS=6
# UNCORRELATED_SEEDS=3 (pbn and Brian2 with c = 0, the sharp rate check)
# SKIP_INSTALL=1 (reuse .venv)  SKIP_CARGO=1 (use existing binary)  PBN=path/to/pbn
# RESULTS_MD=benchmarks/RESULTS.md
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# A RESULTS_MD given relative is relative to where the script was started, not to benchmarks/.
[[ -n "${RESULTS_MD:-}" ]] && RESULTS_MD="$(realpath -m "$RESULTS_MD")"
ROOT="$(dirname "$HERE")"
cd "$HERE"

ROUNDS="${ROUNDS:-3}"
N="${N:-5000}"
T_MS="${T_MS:-10000}"
T_REF_MS="${T_REF_MS:-2000}"
PBN_THREADS="${PBN_THREADS:-1 2}"
PBN_PRECISIONS="${PBN_PRECISIONS:-f64 f32}"
F32_CHECK_SEEDS="${F32_CHECK_SEEDS:-3}"
BRIAN_THREADS="${BRIAN_THREADS:-0 1 2}"
NOISE_SEEDS="${NOISE_SEEDS:-6}"
UNCORRELATED_SEEDS="${UNCORRELATED_SEEDS:-3}"
RESULTS_MD="${RESULTS_MD:-$HERE/RESULTS.md}"
export PBN="${PBN:-$ROOT/target/release/pbn}"
PY="$HERE/.venv/bin/python"
OUT="$HERE/out/results"
LIMIT=600   # no single step may run longer than this (seconds)

log() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }

# 1. Toolchain and Python environment -------------------------------------------------------------
if [[ "${SKIP_INSTALL:-0}" != 1 ]]; then
  if ! command -v g++ >/dev/null 2>&1; then
    log "installing build-essential (g++ for Brian2 C++ standalone)"
    apt-get update -qq && apt-get install -y -qq build-essential
  fi
  log "python venv + Brian2 2.9.0 + plastic-balanced-network 0.0.6"
  [[ -x "$PY" ]] || python3 -m venv "$HERE/.venv"
  "$PY" -m pip install -q --upgrade pip
  # Brian2 2.9.0 uses numpy.ndarray.ptp, which NumPy >= 2.4 removed: pin NumPy below 2.3.
  "$PY" -m pip install -q "brian2==2.9.0" "numpy>=2.0,<2.3" "plastic-balanced-network==0.0.6"
fi

# 2. pbn ------------------------------------------------------------------------------------------
if [[ "${SKIP_CARGO:-0}" != 1 ]]; then
  log "cargo build --release -p pbn-cli"
  (cd "$ROOT" && timeout "$LIMIT" cargo build --release -p pbn-cli)
fi
[[ -x "$PBN" ]] || { echo "pbn binary not found at $PBN" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"

# 3. Environment record ---------------------------------------------------------------------------
"$PY" - "$OUT/env.json" "$ROUNDS" "$ROOT" <<'EOF'
import json, os, platform, subprocess, sys, datetime
def sh(*c):
    try: return subprocess.run(c, capture_output=True, text=True).stdout.strip()
    except OSError: return "?"
lscpu = dict((l.split(":", 1)[0].strip(), l.split(":", 1)[1].strip()) for l in sh("lscpu").splitlines() if ":" in l)
from importlib.metadata import version
root = sys.argv[3]
env = {
  "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
  "cpu_model": lscpu.get("Model name", "?"), "cpus": lscpu.get("CPU(s)", "?"),
  "hypervisor": lscpu.get("Hypervisor vendor", "bare metal"),
  "mem": sh("sh", "-c", "free -h | awk '/Mem:/{print $2}'"), "kernel": platform.platform(),
  "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()), "rounds": int(sys.argv[2]),
  "pbn_version": sh(os.environ["PBN"], "--version"), "git": sh("git", "-C", root, "describe", "--always", "--dirty"),
  "rustc": sh("rustc", "--version"), "brian2": version("brian2"), "numpy": version("numpy"),
  "gxx": sh("g++", "--version").splitlines()[0], "python": platform.python_version(),
  "reference": version("plastic-balanced-network"),
}
json.dump(env, open(sys.argv[1], "w"), indent=1)
EOF

# 4. pbn seed-to-seed spread (the "noise" for the rate check) --------------------------------------
log "pbn rates for seeds 1..$NOISE_SEEDS at T = $T_REF_MS and $T_MS ms"
for s in $(seq 1 "$NOISE_SEEDS"); do
  for T in $(printf '%s\n' "$T_REF_MS" "$T_MS" | sort -un); do
    timeout "$LIMIT" "$PY" pbn_bench.py rates --n "$N" --seed "$s" --duration-ms "$T" \
      --json "$OUT/pbnrates_T${T}_s${s}.json"
  done
done
# f32 neuron state is checked like another simulator against the f64 seed spread.
for s in $(seq 1 "$F32_CHECK_SEEDS"); do
  timeout "$LIMIT" "$PY" pbn_bench.py rates --precision f32 --n "$N" --seed "$s" --duration-ms "$T_MS" \
    --json "$OUT/pbn32rates_T${T_MS}_s${s}.json"
done

# 4b. The same check with independent input (c = 0), where the seed-to-seed spread is small: pbn and
# Brian2 (no OpenMP), seeds 1..UNCORRELATED_SEEDS, T = T_MS.
for s in $(seq 1 "$UNCORRELATED_SEEDS"); do
  timeout "$LIMIT" "$PY" pbn_bench.py rates --n "$N" --seed "$s" --duration-ms "$T_MS" --correlation 0 \
    --json "$OUT/pbnrates0_s${s}.json"
  timeout "$LIMIT" "$PY" brian2_bench.py --n "$N" --threads 0 --seed "$s" --duration-ms "$T_MS" --correlation 0 \
    --build-dir "$HERE/out/brian2_build_c0" --json "$OUT/brian2c0_s${s}.json"
done

# 5. Interleaved timing rounds --------------------------------------------------------------------
for r in $(seq 1 "$ROUNDS"); do
  log "round $r / $ROUNDS"
  for p in $PBN_PRECISIONS; do
    for k in $PBN_THREADS; do
      timeout "$LIMIT" "$PY" pbn_bench.py time --precision "$p" --n "$N" --threads "$k" --duration-ms "$T_MS" \
        --json "$OUT/time_pbn_${p}_t${k}_r${r}.json"
    done
  done
  for k in $BRIAN_THREADS; do
    # Brian2 seed = round number (compiles once per thread count; later rounds rebuild only what changed)
    timeout "$LIMIT" "$PY" brian2_bench.py --n "$N" --threads "$k" --seed "$r" --duration-ms "$T_MS" \
      --build-dir "$HERE/out/brian2_build_t$k" --json "$OUT/brian2_t${k}_r${r}.json"
  done
  timeout "$LIMIT" "$PY" reference_bench.py --n "$N" --seed "$r" --duration-ms "$T_REF_MS" \
    --json "$OUT/ref_r${r}.json" | grep -v '^Progress'
done

# 6. Where pbn's time goes: one profiled run per precision and thread count ------------------------
log "pbn bench --profile"
mkdir -p "$OUT/profiles"
for p in $PBN_PRECISIONS; do
  for k in $PBN_THREADS; do
    timeout "$LIMIT" "$PBN" bench --json --profile --n "$N" --threads "$k" --duration-ms "$T_MS" --precision "$p" \
      > "$OUT/profiles/pbn_${p}_t${k}.json"
  done
done

# 7. Table ----------------------------------------------------------------------------------------
"$PY" - "$OUT/env.json" <<'EOF'
import json, os, sys
env = json.load(open(sys.argv[1]))
env["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
json.dump(env, open(sys.argv[1], "w"), indent=1)
EOF
log "results"
"$PY" compare.py "$OUT" --md "$RESULTS_MD"
