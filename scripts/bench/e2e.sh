#!/usr/bin/env bash
# End-to-end benchmark in one command: builds syncserver and articlesync-bench in release, then
# runs the standard workload on three stores syncing through a real syncserver on loopback.
#
#   scripts/bench/e2e.sh [small|medium|large] [extra articlesync-bench options, e.g. --json-out out.json]
#
# SCRATCH (default .build) is the SwiftPM scratch path; on a checkout shared with others,
# SCRATCH=.build-release keeps the release build from holding the .build lock for minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
size="${1:-medium}"; shift || true
scratch="${SCRATCH:-.build}"
swift build -c release --scratch-path "$scratch" --product syncserver >&2
swift build -c release --scratch-path "$scratch" --product articlesync-bench >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
exec "$bin/articlesync-bench" --size "$size" --server "$bin/syncserver" "$@"
