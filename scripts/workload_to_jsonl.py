#!/usr/bin/env python3
"""Convert the `base` of a bench workload (scripts/bench/workload.py) into the JSON Lines library
format that `synccli import` reads (standard library only).

    python3 scripts/bench/workload.py --n 2000 --seed 42 -o w.json
    python3 scripts/workload_to_jsonl.py w.json -o library.jsonl
    synccli --store /tmp/s.sqlite init && synccli --store /tmp/s.sqlite import library.jsonl

Output: collections first ({"type": "collection", "id", "name"}; the workload's collection ids are
kept), then one line per article ({"type": "article", "url", "title", "summary", "body",
"published_at", "language", "tags", "collections", "captured_at"}). Article ids are not written:
the store derives them from the URL. `captured_at` is the op's `ts` (milliseconds), so the order
of `synccli list` is deterministic. The same conversion is `WorkloadReplay.libraryRecords()` in
Sources/BenchKit.
"""
import argparse
import json
import sys


def convert(workload):
    base = workload["base"]
    member_of = {}
    lines = []
    for op in base:
        if op["op"] == "collection.create":
            lines.append({"type": "collection", "id": op["id"], "name": op["name"]})
            for aid in op.get("members", []):
                member_of.setdefault(aid, []).append(op["id"])
    for op in base:
        if op["op"] != "article.create":
            continue
        rec = {
            "type": "article",
            "url": op["source_url"],
            "title": op["title"],
            "summary": op.get("summary", ""),
            "body": op.get("body", ""),
            "published_at": op.get("published_at"),
            "language": op.get("language"),
            "tags": op.get("tags", []),
            "captured_at": op["ts"],
        }
        if op["id"] in member_of:
            rec["collections"] = sorted(member_of[op["id"]])
        lines.append({k: v for k, v in rec.items() if v is not None})
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", help="workload JSON file, or - for standard input")
    ap.add_argument("-o", "--output", default="-", help="JSONL file to write (default: standard output)")
    args = ap.parse_args()
    src = sys.stdin if args.workload == "-" else open(args.workload, encoding="utf-8")
    with src:
        lines = convert(json.load(src))
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    with out:
        for rec in lines:
            out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    n_coll = sum(1 for r in lines if r["type"] == "collection")
    print("wrote %d collections, %d articles" % (n_coll, len(lines) - n_coll), file=sys.stderr)


if __name__ == "__main__":
    main()
