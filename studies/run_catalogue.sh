#!/usr/bin/env bash
# Runs every bundled study at one scale (default quick), each into study/NAME-SCALE, then
# publishes the reports into reproduction/ and rewrites REPRODUCTION.md.
#   studies/run_catalogue.sh [quick|paper] [STUDY ...]
# Finished points are kept: running it again only runs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-quick}
shift || true
cargo build --release -p pbn-cli
pbn=target/release/pbn
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in studies/*.toml; do names+=("$(basename "$f" .toml)"); done
fi
start=$(date +%s)
dirs=()
for name in "${names[@]}"; do
  t0=$(date +%s)
  # Exit status 1 (a claim failed) or 3 (points missing) still leaves a report to publish.
  "$pbn" study run "$name" --scale "$scale" --out "study/$name-$scale" --quiet || {
    rc=$?
    [ $rc -eq 1 ] || [ $rc -eq 3 ] || exit $rc
  }
  echo "$name: $(( $(date +%s) - t0 )) s wall"
  dirs+=("study/$name-$scale")
done
echo "catalogue at scale $scale: $(( $(date +%s) - start )) s wall for ${#names[@]} studies"
"$pbn" study publish "${dirs[@]}"
