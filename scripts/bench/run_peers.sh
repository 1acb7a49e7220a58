#!/usr/bin/env bash
# Our end-to-end benchmark and the Yjs (pycrdt) / Loro peers on the same workload, one after the
# other (never in parallel), then a side-by-side table with ratios.
#
#   scripts/bench/run_peers.sh [small|medium|large] [runs]
#
# Outputs in .build-bench/<size>/: workload.json, ours-N.json, pycrdt-N.json, loro-N.json,
# compare.md. Needs python3 (venv + pip: pycrdt 0.14.13, loro 1.17.1 from PyPI) and a Swift
# toolchain. SCRATCH as in e2e.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
size="${1:-medium}"
runs="${2:-1}"
out=".build-bench/$size"
mkdir -p "$out"
venv=".build-bench/venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q pycrdt==0.14.13 loro==1.17.1
fi
export SEED_ARTICLE="${SEED_ARTICLE:-$PWD/Tests/Fixtures/seed-article-ar.txt}"
python3 scripts/bench/workload.py --size "$size" --seed 42 -o "$out/workload.json"

scratch="${SCRATCH:-.build}"
swift build -c release --scratch-path "$scratch" --product syncserver >&2
swift build -c release --scratch-path "$scratch" --product articlesync-bench >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"

for i in $(seq 1 "$runs"); do
    echo "== run $i/$runs: articlesync ($size)" >&2
    "$bin/articlesync-bench" --size "$size" --workload "$out/workload.json" --server "$bin/syncserver" \
        --json-out "$out/ours-$i.json" >&2
    echo "== run $i/$runs: pycrdt" >&2
    (cd scripts/bench/peers && "../../../$venv/bin/python" bench_pycrdt.py "../../../$out/workload.json" \
        --json-out "../../../$out/pycrdt-$i.json" >&2)
    echo "== run $i/$runs: loro" >&2
    extra=""; [ "$size" = large ] && extra="--no-extra-exports"
    (cd scripts/bench/peers && "../../../$venv/bin/python" bench_loro.py "../../../$out/workload.json" $extra \
        --json-out "../../../$out/loro-$i.json" >&2)
done
python3 scripts/bench/compare.py "$out" | tee "$out/compare.md"
