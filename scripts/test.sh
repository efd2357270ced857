#!/usr/bin/env bash
# The tests, in one command: the Rust workspace, then the Python package in a fresh virtual
# environment (python/ci.sh: builds it with maturin, installs its test dependencies from PyPI,
# runs pytest against the `pbn` binary just built).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --release
PBN_BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/pbn" python/ci.sh
