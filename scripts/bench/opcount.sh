#!/usr/bin/env bash
# Instructions per imported op, per merged op and per local command, from valgrind --tool=callgrind, which counts the
# same on a busy machine as on an idle one (BENCHMARKS.md, "Instruction counts").
#
#   scripts/bench/opcount.sh [N1 N2]      # base articles at the two sizes (default 40 120)
#
# Each path runs at two sizes; (Ir(N2) − Ir(N1)) / (ops(N2) − ops(N1)) cancels process start-up,
# store creation and schema setup. Needs a release build of articlesync-bench
# (SCRATCH=.build by default; `swift build -c release --product articlesync-bench`).
set -euo pipefail
cd "$(dirname "$0")/../.."
n1=${1:-40}
n2=${2:-120}
bench=${SCRATCH:-.build}/release/articlesync-bench
[ -x "$bench" ] || { echo "no $bench: swift build -c release --product articlesync-bench" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 debug info Swift writes: count on a stripped copy.
strip -g -o "$work/bench" "$bench"
bench="$work/bench"
SEED_ARTICLE=Tests/Fixtures/seed-article-ar.txt python3 scripts/bench/workload.py --size small --seed 42 -o "$work/w.json" >/dev/null

# Ir of one run and the ops it reports: "<Ir> <ops>".
measure() {
  local out
  out=$(valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bench" opcount "$@" 2>"$work/cg.err")
  local ir
  ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/cg.err")
  echo "$ir ${out##*ops=}" | awk '{print $1, $2}'
}

for n in "$n1" "$n2"; do
  "$bench" opcount prepare --workload "$work/w.json" --articles "$n" --out "$work/ops-$n.ascs" >/dev/null
done
read -r ir1 ops1 < <(measure import --workload "$work/w.json" --articles "$n1")
read -r ir2 ops2 < <(measure import --workload "$work/w.json" --articles "$n2")
read -r mr1 mops1 < <(measure merge --changeset "$work/ops-$n1.ascs")
read -r mr2 mops2 < <(measure merge --changeset "$work/ops-$n2.ascs")
# Local commands: all 200 small articles imported, then the first K1 or K2 ops of stream A.
read -r lr1 lops1 < <(measure replay --workload "$work/w.json" --articles 200 --ops 150)
read -r lr2 lops2 < <(measure replay --workload "$work/w.json" --articles 200 --ops 450)
awk -v a="$ir1" -v b="$ir2" -v x="$ops1" -v y="$ops2" 'BEGIN { printf "import: %d→%d ops, %.0f instructions per imported op\n", x, y, (b - a) / (y - x) }'
awk -v a="$mr1" -v b="$mr2" -v x="$mops1" -v y="$mops2" 'BEGIN { printf "merge:  %d→%d ops, %.0f instructions per merged op\n", x, y, (b - a) / (y - x) }'
awk -v a="$lr1" -v b="$lr2" -v x="$lops1" -v y="$lops2" 'BEGIN { printf "local:  %d→%d commands, %.0f instructions per local command (stream A)\n", x, y, (b - a) / (y - x) }'
