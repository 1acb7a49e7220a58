#!/usr/bin/env python3
"""Markdown table of one articlesync-bench --json-out file (per phase), for BENCHMARKS.md.

    python3 scripts/bench/table.py .build-bench/medium/ours-1.json
"""
import json
import sys

r = json.load(open(sys.argv[1]))
print("Size %s: %d articles, %d base ops, stream ops %s; load at end %s"
      % (r["size"], r["articles"], r["baseOps"], r["streamOps"], r["machine"].get("loadavg_end", "?")))
print()
print("| phase | wall s | ops | ops/s | req | bytes up | bytes down | server peak MiB | client peak MiB | stores A/B/C MiB |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for p in r["phases"]:
    s = p["storeBytes"]
    print("| %s | %.3f | %d | %s | %d | %s | %s | %.0f | %.0f | %.1f / %.1f / %.1f |" % (
        p["name"], p["seconds"], p["ops"], "{:,}".format(int(p["opsPerSecond"])), p["requests"],
        "{:,}".format(p["bytesSent"]), "{:,}".format(p["bytesReceived"]), p["serverPeakKiB"] / 1024,
        p["clientPeakKiB"] / 1024, s["A"] / 2**20, s["B"] / 2**20, s["C"] / 2**20))
print()
print("Converged: %s; push all + pull all: %.3f s, %s bytes on the wire. Server data dir at end: %.1f MiB."
      % (r["converged"], r["convergeSeconds"], "{:,}".format(r["convergeBytes"]), r["phases"][-1]["serverDataBytes"] / 2**20))
print("Nothing-changed pull: median %.2f ms (p90 %.2f, %g request); full sync(): median %.2f ms (%g requests)."
      % (r["noopPull"]["median_ms"], r["noopPull"]["p90_ms"], r["noopPull"]["requests"],
         r["noopSync"]["median_ms"], r["noopSync"]["requests"]))
print("Search (median ms): " + ", ".join("%s %.2f" % (k, v) for k, v in sorted(r["searchMillis"].items())))
