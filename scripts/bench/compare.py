#!/usr/bin/env python3
"""Side-by-side table of our end-to-end benchmark and the Yjs (pycrdt) / Loro peers.

    python3 scripts/bench/compare.py .build-bench/medium     # reads ours-*.json, pycrdt-*.json, loro-*.json

Medians over runs. Ratio = ours / peer: below 1 means we are faster / smaller. Peers run in
memory inside one Python process; ours are three SQLite stores and a real server on loopback,
durable on disk (different work: compare costs, not semantics).
"""
import glob
import json
import os
import statistics
import sys


def load(d, prefix):
    return [json.load(open(p)) for p in sorted(glob.glob(os.path.join(d, prefix + "-*.json")))]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def phase(run, name):
    return next((p for p in run["phases"] if p["name"] == name), None)


def ours_rows(runs):
    def sec(*names):
        return med([sum(phase(r, n)["seconds"] for n in names) for r in runs])

    def by(pred, key):
        return med([sum(p[key] for p in r["phases"] if pred(p["name"])) for r in runs])

    conv = lambda n: "push stream" in n or "pull (round" in n or "push (concurrent" in n
    return {
        "base import on A (s)": sec("import base on A"),
        "base to B (A push + B pull) (s)": sec("A push base", "B pull base"),
        "stream A (s)": sec("A offline stream"),
        "stream B (s)": sec("B offline stream"),
        "stream C (s)": sec("C offline stream"),
        "converge: all push + all pull (s)": med([r["convergeSeconds"] for r in runs]),
        "base full state, wire (B)": med([phase(r, "A push base")["bytesSent"] for r in runs]),
        "delta A's edits, wire (B)": med([phase(r, "A push stream")["bytesSent"] for r in runs]) if phase(runs[0], "A push stream") else None,
        "converge bytes total (B)": med([r["convergeBytes"] for r in runs]),
        "peak memory (MiB)": med([(max(p["clientPeakKiB"] for p in r["phases"])) / 1024 for r in runs]),
        "server peak memory (MiB)": med([(max(p["serverPeakKiB"] for p in r["phases"])) / 1024 for r in runs]),
    }


def peer_rows(runs):
    t = lambda k: med([r["times_s"].get(k) for r in runs])
    return {
        "base import on A (s)": t("M1_base_import_s"),
        "base to B (A push + B pull) (s)": med([r["times_s"]["M2_encode_full_s"] + r["times_s"]["M2_decode_full_B_s"] for r in runs]),
        "stream A (s)": t("M3_stream_A_s"),
        "stream B (s)": t("M3_stream_B_s"),
        "stream C (s)": t("M3_stream_C_s"),
        "converge: all push + all pull (s)": med([r["M5_merge_s"] for r in runs]),
        "base full state, wire (B)": med([r["base_full_state_z6_bytes"] for r in runs]),
        "delta A's edits, wire (B)": med([r["delta_A_to_B_z6_bytes"] for r in runs]),
        "converge bytes total (B)": med([r["M5_z6_total"] for r in runs]),
        "peak memory (MiB)": med([r["mem_mb"]["peak_maxrss"] for r in runs]),
        "server peak memory (MiB)": None,
    }


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float) and v < 100:
        return "%.3f" % v
    return "{:,}".format(int(round(v)))


def ratio(a, b):
    return "–" if a is None or b in (None, 0) else "%.2f×" % (a / b)


def main():
    d = sys.argv[1]
    ours, yjs, loro = load(d, "ours"), load(d, "pycrdt"), load(d, "loro")
    if not ours:
        sys.exit("no ours-*.json in " + d)
    o = ours_rows(ours)
    y = peer_rows(yjs) if yjs else {}
    l = peer_rows(loro) if loro else {}
    print("Workload %s: %d articles; %d run(s) ours, %d Yjs, %d Loro (medians)\n"
          % (ours[0]["size"], ours[0]["articles"], len(ours), len(yjs), len(loro)))
    print("| measure | ArticleSync | Yjs (pycrdt) | Loro | ours / Yjs | ours / Loro |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for k in o:
        print("| %s | %s | %s | %s | %s | %s |" % (k, fmt(o[k]), fmt(y.get(k)), fmt(l.get(k)),
                                                ratio(o[k], y.get(k)), ratio(o[k], l.get(k))))
    print("\nPeers: in-memory docs in one Python process (M1–M5 of benchlib.py; 'wire' = zlib-6 size).")
    print("Ours: 3 SQLite stores (durable) + syncserver on loopback; 'wire' = HTTP request+response bodies.")


if __name__ == "__main__":
    main()
