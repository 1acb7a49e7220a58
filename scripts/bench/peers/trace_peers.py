#!/usr/bin/env python3
"""Yjs (pycrdt) and Loro on a sequential editing trace, the figures `articlesync-bench trace`
prints for us: replay time, the full history (state with history) raw and zlib'd (level 6, as
our frames), and a fresh document loading it. Run through the bench venv:

    .build-bench/venv/bin/python scripts/bench/peers/trace_peers.py Tests/Fixtures/traces/automerge-paper.json.gz

Yjs: one transaction per patch (as the traces' README measured); Loro: patches applied, one
commit at the end. Both take positions in Unicode scalars. Prints one JSON object.
"""
import gzip
import json
import sys
import time
import zlib

from loro import ExportMode, LoroDoc
from pycrdt import Doc, Text


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def median(xs):
    return sorted(xs)[len(xs) // 2]


def yjs(trace, repeats):
    times = []
    for _ in range(repeats):
        doc = Doc()
        text = doc.get("text", type=Text)
        t = time.perf_counter()
        for txn in trace["txns"]:
            with doc.transaction():
                for pos, dl, ins in txn["patches"]:
                    if dl:
                        del text[pos : pos + dl]
                    if ins:
                        text.insert(pos, ins)
        times.append(time.perf_counter() - t)
    assert str(text) == trace["endContent"], "Yjs did not reach endContent"
    update = doc.get_update()
    loads = []
    for _ in range(max(repeats, 5)):
        t = time.perf_counter()
        fresh = Doc()
        fresh.apply_update(update)
        s = str(fresh.get("text", type=Text))
        loads.append(time.perf_counter() - t)
    assert s == trace["endContent"]
    return {"replay_ms": median(times) * 1000, "history_bytes_raw": len(update),
            "history_bytes_zlib": len(zlib.compress(update, 6)), "load_history_ms": median(loads) * 1000}


def loro(trace, repeats):
    times = []
    for _ in range(repeats):
        doc = LoroDoc()
        text = doc.get_text("text")
        t = time.perf_counter()
        for txn in trace["txns"]:
            for pos, dl, ins in txn["patches"]:
                if dl:
                    text.delete(pos, dl)
                if ins:
                    text.insert(pos, ins)
        doc.commit()
        times.append(time.perf_counter() - t)
    assert text.to_string() == trace["endContent"], "Loro did not reach endContent"
    snapshot = doc.export(ExportMode.Snapshot())
    loads = []
    for _ in range(max(repeats, 5)):
        t = time.perf_counter()
        fresh = LoroDoc()
        fresh.import_(snapshot)
        s = fresh.get_text("text").to_string()
        loads.append(time.perf_counter() - t)
    assert s == trace["endContent"]
    return {"replay_ms": median(times) * 1000, "history_bytes_raw": len(snapshot),
            "history_bytes_zlib": len(zlib.compress(snapshot, 6)), "load_history_ms": median(loads) * 1000}


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    trace = load(path)
    if trace.get("kind") == "concurrent" or "parents" in trace["txns"][0]:
        sys.exit("trace_peers.py replays sequential traces only")
    out = {"trace": path.rsplit("/", 1)[-1], "yjs": yjs(trace, repeats), "loro": loro(trace, repeats)}
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
