#!/usr/bin/env bash
# ArticleSync demo: three laptops sync through a real sync server on this machine.
#
#   scripts/demo.sh          build if needed, run the story, stop the server, clean up
#   scripts/demo.sh --keep   leave the server (and the three laptops) running afterwards
#
# Builds syncserver and synccli (debug) when they are missing or older than the sources, starts
# `syncserver serve` on a free loopback port with an embedded SQLite store in a temporary
# directory, creates a library, enrols three laptops, makes concurrent offline edits to the
# Arabic seed article and shows every laptop converge to the same library.
set -euo pipefail

KEEP=0
for arg in "$@"; do
    case "$arg" in
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown option '$arg' (try --help)" >&2; exit 64 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.build/debug"
SEED="$ROOT/Tests/Fixtures/seed-article-ar.txt"
LIBRARY=newsroom
# The demo never touches your own store or server settings.
for v in $(env | sed -n 's/^\(ARTICLESYNC_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

if [[ -t 1 ]]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
say()  { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
quoted() { local a out=(); for a in "$@"; do [[ "$a" == *" "* ]] && a="'$a'"; out+=("$a"); done; echo "${out[*]}"; }
note() { printf '   %s\n' "$*"; }
run()  { printf '   $ %s\n' "$(quoted "$@")" | sed "s|$BIN/||g; s|$WORK/||g"; "$@" 2>&1 | sed 's/^/     /'; }

# --- build -----------------------------------------------------------------------------------
stale() {   # stale PRODUCT SOURCE_DIR…: missing, or older than its sources or the manifest
    local bin="$BIN/$1"; shift
    [[ -x "$bin" ]] || return 0
    local dirs=("$@")
    [[ -n "$(find "${dirs[@]/#/$ROOT/Sources/}" "$ROOT/Package.swift" "$ROOT/Package.resolved" \
                 -newer "$bin" -print -quit 2>/dev/null)" ]]
}
declare -A SOURCES=([syncserver]="SyncCore CZlib SyncServer" [synccli]="SyncCore CZlib synccli")
say "Build"
for product in syncserver synccli; do
    # shellcheck disable=SC2086
    if stale "$product" ${SOURCES[$product]}; then
        note "$product is missing or older than the sources: swift build --product $product"
        (cd "$ROOT" && swift build --product "$product")
    else
        note "$product is up to date ($BIN/$product)"
    fi
done
SERVER="$BIN/syncserver"
CLI="$BIN/synccli"
START=$(date +%s)

# --- scratch directory, server -----------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/articlesync-demo.XXXXXX")"
DATA="$WORK/server"
SERVER_PID=""
cleanup() {
    local status=$?
    if [[ $KEEP == 1 && $status == 0 ]]; then return; fi
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    [[ $status == 0 ]] || echo "demo.sh: failed (exit $status)" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# GET a path on the server (bash's /dev/tcp: no curl needed); prints the status line.
http_status() {
    local fd
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" 2>/dev/null || return 1
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&"$fd"
    head -n 1 <&"$fd" | tr -d '\r'
    exec {fd}<&-
}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_server() {   # start on $PORT, wait for /healthz
    local launcher=()
    [[ $KEEP == 1 ]] && launcher=(nohup)
    "${launcher[@]}" "$SERVER" serve --data "$DATA" --host 127.0.0.1 --port "$PORT" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        [[ "$(http_status /healthz 2>/dev/null)" == *" 200"* ]] && return 0
        sleep 0.1
    done
    return 1
}
stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

say "A sync server on this machine"
run "$SERVER" library create "$LIBRARY" --data "$DATA"
PORT=""
for _ in 1 2 3 4 5; do
    candidate=$(( 20000 + RANDOM % 40000 ))
    port_in_use "$candidate" && continue
    PORT=$candidate
    start_server && break
    PORT=""
done
[[ -n "$PORT" ]] || { echo "demo.sh: the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 69; }
URL="http://127.0.0.1:$PORT"
note "syncserver serve --data $DATA --port $PORT   (pid $SERVER_PID, log $WORK/server.log)"
note "GET /healthz → $(http_status /healthz)"

# --- three laptops -----------------------------------------------------------------------------
declare -A NAME=([a]="Amal" [b]="Basel" [c]="Chadi")
store() { echo "$WORK/$1.sqlite"; }
cli() { local who=$1; shift; "$CLI" --store "$(store "$who")" "$@"; }
on() { local who=$1; shift; printf '   %s$ synccli %s\n' "${NAME[$who]}" "$(quoted "$@")"; cli "$who" "$@" 2>&1 | sed 's/^/     /'; }

say "Enrol three laptops: ${NAME[a]} (A), ${NAME[b]} (B), ${NAME[c]} (C)"
for who in a b c; do
    enrolled=$("$SERVER" device enroll --library "$LIBRARY" --name "${NAME[$who]}'s laptop" --data "$DATA" --url "$URL")
    token=$(sed -n 's/^token: //p' <<<"$enrolled")
    note "$(head -n 1 <<<"$enrolled")"
    cli "$who" init --name "${NAME[$who]}'s laptop" >/dev/null
    # The token goes in on standard input (`--token -`): never on a command line.
    cli "$who" remote set "$URL" --library "$LIBRARY" --token - <<<"$token" >/dev/null
    note "synccli init + remote set $URL --library $LIBRARY --token ast_…   (store $(basename "$(store "$who")"))"
done

sync_all() {   # twice round, so everyone has everyone's work
    for who in a b c a b; do on "$who" sync; done
}

# --- the story ---------------------------------------------------------------------------------
say "A captures the Arabic wire story and syncs"
ID=$(cli a add "$SEED" --url "https://www.almayadeen.net/news/politics/gaza-withdrawal" --source الميادين \
        --tag غزة --tag عاجل --json | sed -n 's/^ *"id" *: *"\([0-9a-f]*\)".*/\1/p')
[[ -n "$ID" ]] || { echo "demo.sh: add did not print an id" >&2; exit 1; }
note "captured article $ID with tags غزة, عاجل"
on a sync
say "B and C sync and get it"
on b sync
on c sync
on c list

say "The newsroom Wi-Fi goes down (we stop the server); everyone keeps working offline"
stop_server
note "server stopped"
on a edit "$ID" --title "الاحتلال ينسحب من شمال ووسط غزة (تحرير أمل)"
sleep 0.05
on b edit "$ID" --title "انسحاب إسرائيلي من مناطق في شمال ووسط قطاع غزة (تحرير باسل)"
note "(B's title edit is the later one)"
on c highlight "$ID" --quote "مخيم المغازي" --note "تحقق من المصدر"
on a trash "$ID"
on a tag remove "$ID" غزة
on b tag add "$ID" غزة
note "(A removed the tag غزة while B, offline, tagged it غزة again)"

say "Back online: the server restarts on the same data, and everyone syncs"
start_server || { echo "demo.sh: the server did not restart:" >&2; cat "$WORK/server.log" >&2; exit 69; }
note "server restarted (pid $SERVER_PID)"
sync_all

# --- what every laptop shows -------------------------------------------------------------------
show_short() {   # `synccli show` with the long body elided
    awk 'BEGIN { head = 1 }
         head && /^$/ { head = 0; print "     [… body …]"; next }
         head || /^(Highlights|CONFLICT|Trash|Notes)/ || /^  [\[•-]/ || /^      / { print "     " $0 }' 
}
for who in a b c; do
    say "On ${NAME[$who]}'s laptop ($who)"
    printf '   $ synccli show %s\n' "$ID"
    cli "$who" show "$ID" | show_short
    on "$who" conflicts
done

# --- convergence ---------------------------------------------------------------------------------
say "Convergence: the three libraries are identical"
for who in a b c; do
    cli "$who" export --format jsonl -o "$WORK/$who.jsonl" >/dev/null
    cli "$who" conflicts --json >"$WORK/$who.conflicts.json"
done
diff -u "$WORK/a.jsonl" "$WORK/b.jsonl" && diff -u "$WORK/a.jsonl" "$WORK/c.jsonl"
diff -u "$WORK/a.conflicts.json" "$WORK/b.conflicts.json" && diff -u "$WORK/a.conflicts.json" "$WORK/c.conflicts.json"
note "diff of \`synccli export --format jsonl\`: identical on A, B and C ($(wc -c <"$WORK/a.jsonl") bytes, sha256 $(sha256sum "$WORK/a.jsonl" | cut -c1-16)…)"
note "diff of \`synccli conflicts --json\`: identical on A, B and C"
note "the later title won, the other is kept in \`synccli conflicts\`; the re-added tag stayed;"
note "C's highlight survived the trash and the article is flagged for a decision."
note "(story ran in $(( $(date +%s) - START )) s)"

if [[ $KEEP == 1 ]]; then
    say "The server keeps running (--keep)"
    cat <<EOF
   server   $URL  (pid $SERVER_PID, data $DATA, log $WORK/server.log)
   laptops  $(store a), $(store b), $(store c)

   Enrol another laptop:
     $SERVER device enroll --library $LIBRARY --name "Dana's laptop" --data $DATA --url $URL
     $CLI --store $WORK/d.sqlite init --name "Dana's laptop"
     $CLI --store $WORK/d.sqlite remote set $URL --library $LIBRARY --token ast_…   # the token enroll printed
     $CLI --store $WORK/d.sqlite sync

   Stop and clean up:
     kill $SERVER_PID && rm -rf $WORK
EOF
else
    say "Stopping the server and removing $WORK"
fi
