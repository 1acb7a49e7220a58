#!/usr/bin/env bash
# The main job: run the ArticleSync sync server on an embedded SQLite store, in the foreground.
#
#   scripts/serve.sh                       data in ./server-data, http://127.0.0.1:8080
#   scripts/serve.sh --data DIR --port P   (any other `syncserver serve` option passes through)
#
# Builds syncserver and synccli if needed, creates the library "newsroom" on first run, and
# prints how to enrol a first laptop. Ctrl-C (SIGINT) or SIGTERM stops it gracefully.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/server-data"
PORT=8080
HOST=127.0.0.1
LIBRARY="${ARTICLESYNC_LIBRARY:-newsroom}"
PASS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --data) DATA="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --host) HOST="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) PASS+=("$1"); shift ;;
    esac
done

echo "== Building syncserver and synccli (swift build; quick when up to date)"
(cd "$ROOT" && swift build --product syncserver && swift build --product synccli) >&2
BIN="$ROOT/.build/debug"

mkdir -p "$DATA"
if ! "$BIN/syncserver" library list --data "$DATA" 2>/dev/null | grep -qw "$LIBRARY"; then
    "$BIN/syncserver" library create "$LIBRARY" --data "$DATA"
fi

cat <<EOT

== ArticleSync server: http://$HOST:$PORT  (data: $DATA, library: $LIBRARY)
   Enrol a first laptop (in another terminal; the token is shown once):
     $BIN/syncserver device enroll --library $LIBRARY --name "Amal's laptop" --data $DATA
   then on that laptop:
     synccli init --name "Amal's laptop"
     synccli remote set http://$HOST:$PORT --library $LIBRARY --token <the token>
     synccli sync
   Health: curl http://$HOST:$PORT/healthz   Metrics: curl http://$HOST:$PORT/metrics
   Stop: Ctrl-C. Running it as a system service: docs/OPERATIONS.md.

EOT
exec "$BIN/syncserver" serve --data "$DATA" --host "$HOST" --port "$PORT" "${PASS[@]}"
