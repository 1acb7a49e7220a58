#!/usr/bin/env bash
# Writes Tests/Fixtures/wave1-library.ascs (+ .jsonl, .conflicts.json): a changeset file written by
# a wave-1 synccli (format 1), from two laptops whose edits cover every op kind and conflict kind,
# and what that synccli's `export --format jsonl` and `conflicts --json` said after applying it;
# and Tests/Fixtures/wave1-store.sqlite3, laptop A's store file as that synccli left it.
# The end-to-end suite checks that today's synccli applies the file, and opens (migrates) the
# store, to the same library.
# Usage: scripts/make-wave1-fixture.sh PATH/TO/wave-1/synccli
set -euo pipefail
S=${1:?usage: $0 PATH/TO/wave-1/synccli}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SEED="$ROOT/Tests/Fixtures/seed-article-ar.txt"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
a() { "$S" --store "$W/a.sqlite" "$@"; }
b() { "$S" --store "$W/b.sqlite" "$@"; }
id() { python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])'; }
a init --name Amal >/dev/null; b init --name Basel >/dev/null
ID=$(a add "$SEED" --url "https://www.almayadeen.net/news/politics/gaza-withdrawal" --source الميادين --tag غزة --tag عاجل --json | id)
ID2=$(printf 'رفح: المعبر مغلق\nأغلق المعبر صباح اليوم.\nRafah crossing closed this morning.\n' | a add - --tag رفح --json | id)
H=$(a highlight "$ID" --quote "مخيم المغازي" --note "تحقق من المصدر" --json | id)
a note --article "$ID" "اتصل بالمراسل" >/dev/null
a note "$H" "المصدر: بيان رسمي" >/dev/null
C=$(a collection create "Gaza desk" --json | id)
a collection add "Gaza desk" "$ID" "$ID2" >/dev/null
a changeset export -o "$W/a1.ascs" >/dev/null; b changeset apply "$W/a1.ascs" >/dev/null
# concurrent: a title on both, a tag removed on A and re-added on B, ID2 trashed on A while B highlights it
a edit "$ID" --title "الاحتلال ينسحب من مناطق في قطاع غزة" >/dev/null
b edit "$ID" --title "انسحاب جزئي من شمال ووسط غزة" >/dev/null
a tag remove "$ID" عاجل >/dev/null; b tag add "$ID" عاجل >/dev/null
a trash "$ID2" >/dev/null
b highlight "$ID2" --quote "Rafah crossing" >/dev/null
H2=$(a highlight "$ID" --quote "شارع الرشيد" --json | id)
a annotation remove "$H2" >/dev/null
b edit "$ID" --enable-star >/dev/null
b changeset vv > "$W/b.vv"; a changeset export --since "$W/b.vv" -o "$W/a2.ascs" >/dev/null; b changeset apply "$W/a2.ascs" >/dev/null
a changeset vv > "$W/a.vv"; b changeset export --since "$W/a.vv" -o "$W/b2.ascs" >/dev/null; a changeset apply "$W/b2.ascs" >/dev/null
a changeset export -o "$ROOT/Tests/Fixtures/wave1-library.ascs" >/dev/null
a export --format jsonl > "$ROOT/Tests/Fixtures/wave1-library.jsonl"
a conflicts --json > "$ROOT/Tests/Fixtures/wave1-library.conflicts.json"
b export --format jsonl | cmp - "$ROOT/Tests/Fixtures/wave1-library.jsonl"
python3 - "$W/a.sqlite" "$ROOT/Tests/Fixtures/wave1-store.sqlite3" <<'PY'
import sqlite3, sys
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2])
src.backup(dst); dst.execute("PRAGMA journal_mode=DELETE"); dst.execute("VACUUM"); dst.close()
PY
echo "wrote Tests/Fixtures/wave1-library.{ascs,jsonl,conflicts.json} with $("$S" changeset inspect --json "$ROOT/Tests/Fixtures/wave1-library.ascs" | python3 -c 'import sys,json;print(sum(len(f["ops"]) for f in json.load(sys.stdin)))') ops"
