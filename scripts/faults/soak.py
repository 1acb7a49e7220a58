#!/usr/bin/env python3
"""Bounded soak: N simulated devices (real synccli processes) make random edits and sync against
one real syncserver for a fixed time, with random client faults (kill -9 at failpoints and at
random moments). It stops by itself, then checks the accounting (harness.account: 0 lost,
0 duplicated, converged, integrity ok) and reports the server's memory (VmRSS over time and its
slope after warm-up and over the second half: a leak keeps its slope, a cache filling up
flattens) and file descriptors (/proc/<pid>/fd count).

The server is never restarted during a soak, so its memory and fd series cover one process
lifetime (server kills are the fault suite's job).

  python3 scripts/faults/soak.py --minutes 30 --devices 8      # the documented soak
  python3 scripts/faults/soak.py --minutes 2                    # a quick look
"""
import argparse
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CLIENT_FAULTS = ["client.push.after-build=crash", "client.push.after-response=crash", "client.pull.mid-apply=crash"]


def proc_sample(pid):
    rss_kb = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kb, fds


def slope_per_hour(samples):
    """Least-squares slope of (t seconds, value) in value units per hour."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    den = sum((t - mt) ** 2 for t, _ in samples)
    return 0.0 if den == 0 else sum((t - mt) * (v - mv) for t, v in samples) / den * 3600


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of syncs that get a client fault")
    parser.add_argument("--sample-seconds", type=float, default=10)
    parser.add_argument("--bin", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    bindir = args.bin or os.path.join(repo, ".build", "debug")
    root = args.workdir or tempfile.mkdtemp(prefix="articlesync-soak-")
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    h.ARGS = argparse.Namespace(seed=seed, synccli=os.path.join(root, "bin", "synccli"),
                                 syncserver=os.path.join(root, "bin", "syncserver"))
    for name in ("synccli", "syncserver"):
        shutil.copy2(os.path.join(bindir, name), os.path.join(root, "bin", name))

    h.log(f"soak: {args.devices} devices, {args.minutes} min, fault rate {args.fault_rate}, seed {seed}, in {root}")
    server, devices = h.fresh(root, "soak", args.devices)
    shared = h.seed_shared(devices)
    pid = server.proc.pid
    deadline = time.time() + args.minutes * 60
    started = time.time()
    samples = []  # (t, rss_kb, fds)
    faults = {"failpoint kills": 0, "random kills": 0, "syncs": 0, "sync errors": 0}
    lock = threading.Lock()

    def sampler():
        while time.time() < deadline:
            rss, fds = proc_sample(pid)
            samples.append((time.time() - started, rss, fds))
            time.sleep(args.sample_seconds)

    def worker(d):
        while time.time() < deadline:
            for _ in range(d.rng.randint(1, 4)):
                d.local_op(shared)
            if d.rng.random() < 0.05:
                d.bulk_import(40)
            r = d.rng.random()
            if r < args.fault_rate / 2:
                rc, _ = d.sync(failpoints=d.rng.choice(CLIENT_FAULTS))
                with lock:
                    faults["failpoint kills" if rc == -signal.SIGKILL else "syncs"] += 1
            elif r < args.fault_rate:
                proc = d.popen_sync()
                time.sleep(d.rng.uniform(0.01, 0.3))
                killed = proc.poll() is None
                if killed:
                    proc.send_signal(signal.SIGKILL)
                proc.communicate()
                with lock:
                    faults["random kills" if killed else "syncs"] += 1
            else:
                rc, err = d.sync()
                with lock:
                    faults["syncs"] += 1
                    if rc != 0:
                        faults["sync errors"] += 1
                        h.log(f"  {d.name}: sync exited {rc}: {err[:200]}")
            if d.holes():
                h.STATS.fail(f"{d.name}: holes during soak: {d.holes()}")

    threads = [h.spawn(sampler)] + [h.spawn(worker, d) for d in devices]
    last_report = time.time()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if time.time() - last_report > 60 and samples:
            last_report = time.time()
            t, rss, fds = samples[-1]
            h.log(f"  t={t:.0f}s server VmRSS {rss / 1024:.1f} MB, fds {fds}, {faults}")
    rss_end, fds_end = proc_sample(pid)
    h.settle(devices)
    h.account("soak", server, devices)
    server.stop()
    span = samples[-1][0] if samples else 0
    warm = [s for s in samples if s[0] >= 0.2 * span]
    late = [s for s in samples if s[0] >= 0.5 * span]  # a leak keeps its slope; a filling cache flattens
    figures = {
        "seed": seed, "minutes": args.minutes, "devices": args.devices, "faults": faults,
        "ops": h.STATS.counts.get("ops checked", 0), "lost": h.STATS.counts.get("lost", 0),
        "duplicated": h.STATS.counts.get("duplicated", 0), "samples": len(samples),
        "rss_mb_first": round(samples[0][1] / 1024, 1) if samples else None,
        "rss_mb_last": round(rss_end / 1024, 1), "rss_mb_max": round(max(s[1] for s in samples) / 1024, 1) if samples else None,
        "rss_slope_mb_per_hour_after_warmup": round(slope_per_hour([(t, r / 1024) for t, r, _ in warm]), 2),
        "rss_slope_mb_per_hour_second_half": round(slope_per_hour([(t, r / 1024) for t, r, _ in late]), 2),
        "fds_first": samples[0][2] if samples else None, "fds_last": fds_end,
        "fds_max": max(s[2] for s in samples) if samples else None,
        "fd_slope_per_hour_after_warmup": round(slope_per_hour([(t, f) for t, _, f in warm]), 2),
        "failures": h.STATS.failures,
    }
    print(json.dumps(figures, indent=2))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({**figures, "series": samples}, f, indent=2)
    if not args.workdir:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(1 if h.STATS.failures else 0)


if __name__ == "__main__":
    main()
