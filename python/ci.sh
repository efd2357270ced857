#!/usr/bin/env bash
# The Python package's CI: a fresh virtual environment, `pip install ./python[test]` (built by
# maturin from this checkout), the `pbn` CLI the tests compare with, then pytest.
#
#   python/ci.sh                 # fresh venv in a temporary directory, removed afterwards
#   PBN_VENV=DIR python/ci.sh    # create or reuse DIR (faster when run again)
#
# PBN_BIN=PATH uses that `pbn` binary instead of building one. Honours CARGO_TARGET_DIR (the extension and the CLI are built there). Needs python3 ≥ 3.11
# with venv and network access to PyPI (numpy, neo, elephant, pandas, matplotlib, pytest, maturin).
# Exits non-zero when anything fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
started=$(date +%s)

if [[ -n "${PBN_VENV:-}" ]]; then
    VENV="$PBN_VENV"
else
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    VENV="$tmp/venv"
fi
reused=1
if [[ ! -x "$VENV/bin/python" ]]; then
    reused=0
    echo "== creating $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi

if [[ -z "${PBN_BIN:-}" ]]; then
    echo "== building the pbn CLI (the tests compare with it; PBN_BIN=PATH skips this)"
    (cd "$ROOT" && nice cargo build --release --quiet -p pbn-cli)
    export PBN_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/pbn"
fi

echo "== pip install ./python[test]"
cd "$ROOT"
nice "$VENV/bin/python" -m pip install --quiet "./python[test]"
if [[ $reused == 1 ]]; then
    # The same version number: make sure this checkout's build is the one installed.
    nice "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps ./python
fi

echo "== pytest"
# From the repository root, so that python/pbn (without the compiled module) is not imported
# in place of the installed package.
MPLBACKEND=Agg "$VENV/bin/pytest" -q python/tests
echo "== python/ci.sh passed in $(( $(date +%s) - started )) s"
