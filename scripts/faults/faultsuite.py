#!/usr/bin/env python3
"""ArticleSync fault suite: drives REAL `syncserver` and `synccli` processes on loopback,
injects faults (kill -9 of clients at every failpoint and at random moments, SIGKILL/SIGTERM of
the server under concurrent load, 16 devices at once, a starved server (1 request in flight,
tight rate limit, connection cap held by silent sockets), disk full on server and client, clock
skew, restore from an older backup) and then checks the accounting:

  for every replica r: every store's VV[r] == r's own op count   (0 lost, nobody skipped)
  server library info: replicas[r] == own count, ops == sum       (0 duplicated)
  every store: no holes (COUNT == MAX(counter) per replica), `synccli doctor` integrity ok
  `synccli export` identical on every device (converged); server.sqlite integrity ok

Usage (see RELIABILITY.md):
  python3 scripts/faults/faultsuite.py --short            # CI: ~2 min on 2 cores
  python3 scripts/faults/faultsuite.py --long             # hundreds of kills, ~10 min
  python3 scripts/faults/faultsuite.py --phases clock-skew,epoch --seed 7
Exit status 0 when every check passed; the summary (and --json FILE) lists the figures.
Python 3 standard library only. Disk-full phases need root (tmpfs mounts); skipped otherwise.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import (DAY, HOUR, STATS, YEAR, Device, Failure, Server, account, enrol_and_start, fill, fresh,  # noqa: E402
                     http, log, metric_total, mount_tmpfs, seed_shared, settle, spawn)

# ---------------------------------------------------------------------------------------------
# Phases


def phase_client_kill(root, scale):
    """kill -9 of a client at every failpoint of push and pull, and at random moments."""
    server, devices = fresh(root, "ck", 3)
    shared = seed_shared(devices)
    a, b, c = devices
    failpoints = [
        ("client.push.after-build", "crash", None),
        ("client.push.after-response", "crash", None),
        ("client.pull.mid-apply", "crash", None),
        # after sending, before the response: the server holds the request long enough
        ("client.push.after-build", "crash-in:150", "server.push.after-decode=sleep:600"),
    ]
    kills = 0
    for name, action, server_fp in failpoints:
        if server_fp:
            server.stop()
            server.start(failpoints=server_fp)
        log(f"  kill -9 at {name}={action}" + (f" (server {server_fp})" if server_fp else "") +
            f": {scale['fp_rounds']} rounds")
        for _ in range(scale["fp_rounds"]):
            victim = random.choice(devices)
            other = random.choice([d for d in devices if d is not victim])
            for _ in range(random.randint(1, 3)):
                victim.local_op(shared)
            if name == "client.pull.mid-apply":
                other.local_op(shared)
                other.sync()
            rc, err = victim.sync(failpoints=f"{name}={action}")
            if rc == -signal.SIGKILL:
                kills += 1
                STATS.add(f"client kills at {name}={action}")
            else:
                STATS.fail(f"{victim.name}: failpoint {name}={action} did not kill the client (rc {rc}: {err[:200]})")
            rc, err = victim.sync()
            if rc != 0:
                STATS.fail(f"{victim.name}: resync after kill at {name} exited {rc}: {err[:300]}")
            if victim.holes():
                STATS.fail(f"{victim.name}: holes after kill at {name}: {victim.holes()}")
        if server_fp:
            server.stop()
            server.start()
    # Random moments: a big pending import makes push and pull last long enough to be hit.
    finished_first = 0
    log(f"  kill -9 at random moments of {scale['random_kills']} syncs")
    for i in range(scale["random_kills"]):
        if i and i % 20 == 0:
            log(f"    {i} of {scale['random_kills']} random kills done")
        victim = devices[i % 3]
        if i % 4 == 0:
            random.choice([d for d in devices if d is not victim]).bulk_import(scale["bulk"])
        victim.bulk_import(scale["bulk"] // 2)
        proc = victim.popen_sync()
        time.sleep(random.uniform(0.02, 0.4))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
            STATS.add("client kills at random moments")
        else:
            finished_first += 1
        proc.communicate()
        if victim.holes():
            STATS.fail(f"{victim.name}: holes after random kill: {victim.holes()}")
    STATS.add("client syncs finished before the random kill", finished_first)
    kills += kill_local_imports(devices, scale)
    settle(devices)
    account("client-kill", server, devices)
    server.stop()
    return kills


def kill_local_imports(devices, scale, batch=25):
    """kill -9 during `synccli import` (transactions of `batch` articles): the store keeps whole
    batches only, never a half-written one; rerunning the same file completes it without
    duplicating an article (ids are content-derived); every committed op stays."""
    kills = 0
    log(f"  kill -9 during local imports: {scale['import_kills']} rounds")
    for i in range(scale["import_kills"]):
        victim = devices[i % len(devices)]
        rng = victim.rng
        n = rng.randint(3, 8) * batch
        path = f"{victim.store}.import-{i}.jsonl"
        with open(path, "w") as f:
            f.write(victim.library_lines(n, label=f"import {i}"))
        before = victim.article_ids()
        own_before = victim.own_ops()
        proc = subprocess.Popen([h.ARGS.synccli, "import", path, "--batch-size", str(batch)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=victim.env())
        # Kill somewhere inside a random batch: wait until `target` batches are visible (the store is
        # WAL, readers see each commit), then a little longer. A fixed delay missed on a fast machine.
        target = rng.randrange(n // batch)
        while proc.poll() is None and len(victim.article_ids() - before) < target * batch:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.communicate()
        STATS.add("synccli runs")
        added = len(victim.article_ids() - before)
        if killed:
            kills += 1
            STATS.add("client kills during local imports")
            if 0 < added < n:
                STATS.add("killed imports that had stored some whole batches")
        if added % batch != 0:
            STATS.fail(f"{victim.name}: import killed after {added} of {n} articles: not whole batches of {batch}")
        if victim.holes():
            STATS.fail(f"{victim.name}: holes after a kill during import: {victim.holes()}")
        if victim.own_ops() < own_before:
            STATS.fail(f"{victim.name}: own ops went back from {own_before} during a killed import")
        report = json.loads(victim.must("import", path, "--json", "--batch-size", str(batch)))
        if report["articlesCreated"] != n - added or report["articlesExisting"] != added:
            STATS.fail(f"{victim.name}: rerun of a killed import created {report['articlesCreated']} and found "
                       f"{report['articlesExisting']}, expected {n - added} and {added}")
        if len(victim.article_ids() - before) != n:
            STATS.fail(f"{victim.name}: after the rerun {len(victim.article_ids() - before)} of {n} articles are there")
        victim.note_committed()
    return kills


def phase_server_kill(root, scale):
    """SIGKILL / SIGTERM of the server while several devices push and pull at once, then the
    server's own failpoints (crash after decode, mid-transaction, after commit before the ack)."""
    server, devices = fresh(root, "sk", scale["server_devices"])
    shared = seed_shared(devices)
    stop = threading.Event()
    outcomes = {}

    # Half the devices retry (what a laptop does), half make a single attempt, so that a kill under
    # a sync shows up as that sync's failure: it must be a clean "unavailable" (69) or "try later"
    # (75), never a crash, a data or protocol error, or a success for work the server lost.
    clean = {0, 69, 75}

    def worker(d):
        attempts = 1 if devices.index(d) % 2 == 0 else 10
        while not stop.is_set():
            d.local_op(shared)
            if d.rng.random() < 0.15:
                d.bulk_import(scale["bulk"] // 4)
            rc, err = d.sync(attempts=attempts)
            with STATS.lock:
                key = f"attempts={attempts}: exit {rc}"
                outcomes[key] = outcomes.get(key, 0) + 1
            if rc not in clean:
                STATS.fail(f"{d.name}: sync under server kills exited {rc} (expected 0, 69 or 75): {err[:300]}")

    threads = [spawn(worker, d) for d in devices]
    kills = {"SIGKILL": 0, "SIGTERM": 0}
    term_codes = {}
    log(f"  {scale['server_kills']} server kills under load from {len(devices)} devices")
    for i in range(scale["server_kills"]):
        if i and i % 20 == 0:
            log(f"    {i} of {scale['server_kills']} server kills done")
        time.sleep(random.uniform(0.3, 1.5))
        sig = signal.SIGTERM if i % 3 == 2 else signal.SIGKILL
        rc = server.stop(sig)
        kills[sig.name] += 1
        if sig == signal.SIGTERM:
            term_codes[rc] = term_codes.get(rc, 0) + 1
            if rc != 0:
                STATS.fail(f"server exited {rc} on SIGTERM (expected a clean 0)")
        server.start()
    stop.set()
    for t in threads:
        t.join()
    log(f"  device sync outcomes during server kills: {dict(sorted(outcomes.items()))}; SIGTERM exit codes {term_codes}")
    interrupted = sum(n for key, n in outcomes.items() if key.startswith("attempts=1:") and not key.endswith("exit 0"))
    STATS.add("single-attempt syncs failed cleanly under a server kill", interrupted)
    if interrupted == 0:
        STATS.fail("server-kill: no single-attempt sync was ever interrupted: the kills missed every request")
    for name in ("server.push.after-decode", "server.push.mid-apply", "server.push.after-commit"):
        for _ in range(scale["server_fp_rounds"]):
            server.stop()
            server.start(failpoints=f"{name}=crash")
            d = random.choice(devices)
            d.local_op(shared)
            rc, err = d.sync(attempts=1)
            try:
                server_rc = server.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server_rc = None
            server.proc = None
            if server_rc == -signal.SIGKILL:
                kills["SIGKILL"] += 1
                STATS.add(f"server kills at {name}")
            else:
                STATS.fail(f"failpoint {name}=crash did not kill the server (rc {server_rc}); client rc {rc}")
            if rc == 0:
                STATS.fail(f"{d.name}: sync reported success although the server died at {name}")
            server.start()
            rc, err = d.sync()
            if rc != 0:
                STATS.fail(f"{d.name}: resync after server crash at {name}: rc {rc} {err[:300]}")
    settle(devices)
    account("server-kill", server, devices)
    server.stop()
    STATS.add("server SIGKILLs", kills["SIGKILL"])
    STATS.add("server SIGTERMs", kills["SIGTERM"])
    return kills["SIGKILL"] + kills["SIGTERM"]


def phase_concurrent(root, scale):
    """16 devices editing the same articles and syncing at once. After every sync a device must
    hold every op the server held when the sync began (no reader skips an op) and no holes."""
    n = scale["concurrent_devices"]
    server, devices = fresh(root, "cc", n)
    shared = seed_shared(devices)
    skips = []

    def worker(d):
        for _ in range(scale["concurrent_rounds"]):
            for _ in range(d.rng.randint(1, 3)):
                d.local_op(shared)
            before = server.info()["replicas"]
            rc, err = d.sync()
            STATS.add("concurrent syncs")
            if rc != 0:
                STATS.fail(f"{d.name}: concurrent sync exited {rc}: {err[:300]}")
                continue
            vv = d.store_vv()
            for replica, acked in before.items():
                if vv.get(replica, (0, 0))[1] < acked:
                    skips.append((d.name, replica, vv.get(replica), acked))
            if d.holes():
                STATS.fail(f"{d.name}: holes after concurrent sync: {d.holes()}")

    threads = [spawn(worker, d) for d in devices]
    for t in threads:
        t.join()
    for skip in skips:
        STATS.fail(f"reader skipped ops: {skip}")
    settle(devices)
    account("concurrent", server, devices)
    server.stop()
    return 0


def phase_starve(root, scale):
    """A starved server: one request handled at a time (503 `overloaded`), a tight per-device rate
    limit (429 `rate_limited`), and a small connection cap held by silent sockets that send half a
    request and then nothing (slowloris) under a short idle timeout. Devices must get through by
    honouring Retry-After, the silent sockets must be cut, and nothing is lost."""
    idle = 2
    # The silent sockets alone fill the connection cap: devices get a connection only when the
    # idle timeout has cut some.
    limits = {"ARTICLESYNC_MAX_CONCURRENT_REQUESTS": "1", "ARTICLESYNC_RATE_LIMIT_PER_SECOND": "3",
              "ARTICLESYNC_RATE_LIMIT_BURST": "4", "ARTICLESYNC_MAX_CONNECTIONS": str(scale["silent_sockets"]),
              "ARTICLESYNC_IDLE_TIMEOUT_SECONDS": str(idle)}
    server, devices = fresh(root, "st", scale["starve_devices"])
    shared = seed_shared(devices)
    server.stop()
    server.start(extra_env=limits)
    done = threading.Event()
    cut_after = []  # seconds from the last byte to the server closing a silent socket
    never_cut = []
    outcomes = {}

    def silent_socket():
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
            sent = time.time()
            sock.settimeout(idle + 8)
            try:
                while sock.recv(4096):
                    pass
            except ConnectionResetError:
                pass  # closed with a reset: cut all the same
            except socket.timeout:
                never_cut.append(time.time() - sent)
                return
            cut_after.append(time.time() - sent)
        finally:
            sock.close()

    def slowloris():
        while not done.is_set():
            batch = [spawn(silent_socket) for _ in range(scale["silent_sockets"])]
            for t in batch:
                t.join()

    def worker(d):
        for _ in range(scale["starve_rounds"]):
            for _ in range(d.rng.randint(1, 3)):
                d.local_op(shared)
            rc, err = d.sync(attempts=30)
            with STATS.lock:
                outcomes[rc] = outcomes.get(rc, 0) + 1
            if rc not in (0, 75):  # 75: still busy after every attempt, a clean "try later"
                STATS.fail(f"{d.name}: sync on a starved server exited {rc}: {err[:300]}")

    # A device in a hurry: a burst past its bucket is refused with 429 and a Retry-After.
    burst = []
    for _ in range(12):
        status, headers, _ = http(f"{server.url}/v1/libraries/{server.library}", token=devices[0].token, timeout=10,
                                  with_headers=True)
        burst.append((status, headers.get("Retry-After")))
    refused = [retry for code, retry in burst if code == 429]
    if not refused or not all(r and r.isdigit() and int(r) >= 1 for r in refused):
        STATS.fail(f"starve: a burst of 12 requests past a bucket of 4 was not refused with 429 + Retry-After: {burst}")
    loris = spawn(slowloris)
    threads = [spawn(worker, d) for d in devices]
    for t in threads:
        t.join()
    done.set()
    loris.join()
    overloaded = metric_total(server, "articlesync_rejections_total", 'code="overloaded"')
    limited = metric_total(server, "articlesync_rejections_total", 'code="rate_limited"')
    log(f"  syncs on a starved server (exit code: count): {outcomes}; refusals: {overloaded:.0f} overloaded (503), "
        f"{limited:.0f} rate_limited (429); {len(cut_after)} silent sockets cut after "
        f"{max(cut_after, default=0):.1f} s at most, {len(never_cut)} never cut")
    STATS.add("503 overloaded refusals", int(overloaded))
    STATS.add("429 rate_limited refusals", int(limited))
    STATS.add("silent sockets cut by the idle timeout", len(cut_after))
    if overloaded + limited == 0:
        STATS.fail("starve: the syncs were never refused (no 503 overloaded, no 429 rate_limited): not starved")
    if never_cut:
        STATS.fail(f"starve: {len(never_cut)} silent sockets were still open {idle + 8} s after their last byte "
                   f"(idle timeout {idle} s)")
    if not cut_after:
        STATS.fail("starve: no silent socket was ever opened and cut")
    if http(f"{server.url}/healthz")[0] != 200:
        STATS.fail("starve: the server is not healthy after the starvation")
    settle(devices)
    account("starve", server, devices)
    server.stop()
    return 0


def phase_disk_full(root, scale):
    """Disk full on the server (tmpfs data directory) during pushes, and on a client during a
    pull: clean refusals, nothing half-applied, recovery once space is back."""
    if os.geteuid() != 0:
        log("  SKIPPED: tmpfs mounts need root")
        STATS.add("disk-full phases skipped")
        return 0
    srv_mount = os.path.join(root, "df-srv-fs")
    cli_mount = os.path.join(root, "df-cli-fs")
    if not (mount_tmpfs(srv_mount, "6m") and mount_tmpfs(cli_mount, "32m")):
        log("  SKIPPED: mount -t tmpfs failed here")
        STATS.add("disk-full phases skipped")
        return 0
    try:
        server = Server(srv_mount, "df")
        server.create()
        a = Device(root, server, "df-a")
        b = Device(root, server, "df-b")
        c = Device(root, server, "df-c", store_dir=cli_mount)
        devices = [a, b, c]
        enrol_and_start(server, devices)
        seed_shared(devices)  # everyone holds some articles before the disk fills

        # --- server disk full
        info_before = server.info()
        filler = fill(srv_mount, 48 * 1024)
        a.bulk_import(scale["bulk"], body_words=400)
        rc, err = a.sync()
        STATS.add("server disk-full refusals")
        if rc != 69 or "insufficient_storage" not in err:
            STATS.fail(f"server disk full: expected exit 69 with insufficient_storage, got rc {rc}: {err[:300]}")
        else:
            log(f"  server disk full → client exit {rc}: {err[:160]}")
        if not server.alive() or http(f"{server.url}/healthz")[0] != 200:
            STATS.fail("server disk full: the server is not alive and healthy")
        info_full = server.info()
        if info_full["ops"] != info_before["ops"] or info_full["head"] != info_before["head"]:
            STATS.fail(f"server disk full: something was half-stored: {info_before} → {info_full}")
        rc, err = b.sync()  # reads (pulls) keep working, and b has nothing to push
        if rc != 0:
            STATS.fail(f"server disk full: a pull-only sync failed: rc {rc}: {err[:300]}")
        os.remove(filler)
        rc, err = a.sync()
        if rc != 0:
            STATS.fail(f"server disk full: sync after space came back: rc {rc}: {err[:300]}")

        # --- client disk full during a pull
        settle(devices)
        vv_before = c.store_vv()
        b.bulk_import(scale["bulk"], body_words=400)
        rc, err = b.sync()
        if rc != 0:
            STATS.fail(f"client disk full: b's push failed: rc {rc}: {err[:300]}")
        filler = fill(cli_mount, 32 * 1024)
        rc, out, err = c.run("pull")
        STATS.add("client disk-full refusals")
        if rc == 0:
            STATS.fail("client disk full: the pull succeeded on a full disk (filler too small?)")
        elif rc < 0 or "disk full" not in err.lower():
            STATS.fail(f"client disk full: expected a clear 'disk full' error, got rc {rc}: {err[:300]}")
        else:
            log(f"  client disk full → exit {rc}: {err.strip()[:160]}")
        if c.holes():
            STATS.fail(f"client disk full: holes: {c.holes()}")
        partial = c.store_vv().get(b.replica, (0, 0))[1] - vv_before.get(b.replica, (0, 0))[1]
        log(f"  client disk full: {partial} of b's new ops applied before the refusal (whole pages only)")
        rc, out, err = c.run("doctor")
        if rc != 0 or "integrity ok" not in out:
            STATS.fail(f"client disk full: doctor on the full disk: rc {rc} {out} {err}")
        os.remove(filler)
        settle(devices)
        after = c.store_vv()
        if after.get(b.replica, (0, 0))[1] <= vv_before.get(b.replica, (0, 0))[1]:
            STATS.fail("client disk full: no progress after space came back")
        account("disk-full", server, devices)
        server.stop()
    finally:
        subprocess.run(["umount", "-l", srv_mount], capture_output=True)
        subprocess.run(["umount", "-l", cli_mount], capture_output=True)
    return 0


def phase_clock_skew(root, scale):
    """Laptops an hour, a day and a year ahead and behind, and a clock jumping back mid-run."""
    offsets = {2: HOUR, 3: DAY, 4: YEAR, 5: -HOUR, 6: -DAY, 7: -YEAR}
    server, devices = fresh(root, "cs", 8)
    good, good2 = devices[0], devices[1]
    ahead = devices[2:5]
    behind = devices[5:8]
    shared = seed_shared(devices)  # everyone holds the shared articles before the clocks go wrong
    for i, d in offsets.items():
        devices[i].offset_ms = d
    for d in devices:
        for _ in range(2):
            d.local_op(shared)
    for d in ahead:
        rc, err = d.sync()
        STATS.add("clock-skew refusals (ahead)")
        if rc != 65 or "clock_skew" not in err:
            STATS.fail(f"{d.name} ({d.offset_ms:+} ms): expected exit 65 clock_skew, got rc {rc}: {err[:300]}")
        else:
            log(f"  {d.name} {d.offset_ms // HOUR:+}h → exit {rc}: {err[:150]}")
    for d in (good, good2):
        rc, err = d.sync()
        if rc != 0:
            STATS.fail(f"{d.name} (good clock) poisoned: rc {rc}: {err[:300]}")
    for d in behind:
        # Others' ops are in its future, but the server bounded them by its own clock: it is
        # this laptop's clock that is behind. It applies them, warns, stamps its own work after
        # them and pushes it (issue 17, finding 7: being behind must not block a sync).
        rc, err = d.sync()
        STATS.add("clock-behind syncs (warned, not refused)")
        if rc != 0 or "clock is probably behind" not in err:
            STATS.fail(f"{d.name} ({d.offset_ms:+} ms): expected exit 0 with a clock warning, got rc {rc}: {err[:300]}")
        else:
            log(f"  {d.name} {d.offset_ms // HOUR:+}h → exit {rc}: {err[:150]}")
    settle([good, good2])
    # Causality with a clock behind (within bounds): good edits, good2 pulls, good2's clock
    # jumps back 5 minutes and edits the same field: good2's later edit must win everywhere.
    target = shared[0]
    good.must("edit", target, "--title", "first edit")
    good.sync()
    good2.sync()
    good2.offset_ms = -5 * 60_000
    good2.must("edit", target, "--title", "later edit with a clock 5 min behind")
    good2.note_committed()
    good.note_committed()
    rc, err = good2.sync()
    if rc != 0:
        STATS.fail(f"good2 (clock 5 min behind) sync: rc {rc}: {err[:300]}")
    good.sync()
    for d in (good, good2):
        title = json.loads(d.must("show", target, "--json")).get("title")
        if title != "later edit with a clock 5 min behind":
            STATS.fail(f"causality: {d.name} shows title {title!r} after a causally later edit")
    # A clock jumping back a day mid-run: stamps stay monotone (HLC), pushes are accepted.
    good2.offset_ms = -DAY
    for _ in range(3):
        good2.local_op(shared)
    db = sqlite3.connect(f"file:{good2.store}?mode=ro", uri=True)
    stamps = [h for (h,) in db.execute("SELECT hlc FROM ops WHERE lower(hex(replica)) = ? ORDER BY counter",
                                       (good2.replica,))]
    db.close()
    if stamps != sorted(stamps) or len(set(stamps)) != len(stamps):
        STATS.fail("clock jump back: good2's op stamps are not strictly increasing")
    rc, out, err = good2.run("push")
    if rc != 0:
        STATS.fail(f"clock jump back: push after the jump: rc {rc}: {err[:300]}")
    good2.offset_ms = 0
    # Behind laptops fixed: they converge. Ahead laptops stay refused (their ops are stamped in
    # the future) while everyone else converges: nobody is poisoned.
    for d in behind:
        d.offset_ms = 0
    for d in ahead:
        d.offset_ms = 0
    settle([good, good2] + behind)
    for d in ahead:
        rc, err = d.sync()
        if rc != 65 or "clock_skew" not in err:
            STATS.fail(f"{d.name} after fixing its clock: expected clock_skew still, got rc {rc}: {err[:200]}")
    account("clock-skew", server, devices, expect_absent=ahead)
    server.stop()
    return 0


def phase_epoch(root, scale):
    """Server restored from an older backup + `syncserver epoch rotate`: clients notice the new
    epoch and re-push what it lost."""
    server, devices = fresh(root, "ep", 4)
    shared = seed_shared(devices)
    for d in devices:
        d.local_op(shared)
    settle(devices)
    backup = os.path.join(root, "ep-backup.sqlite")
    src = sqlite3.connect(os.path.join(server.dir, "server.sqlite"))
    dst = sqlite3.connect(backup)
    src.backup(dst)
    dst.close()
    src.close()
    for d in devices:
        for _ in range(3):
            d.local_op(shared)
        d.sync()
    lost_by_restore = server.info()["ops"]
    server.stop()
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(server.dir, "server.sqlite" + suffix)
        if os.path.exists(path):
            os.remove(path)
    shutil.copy(backup, os.path.join(server.dir, "server.sqlite"))
    server.admin("epoch", "rotate")
    server.start()
    lost_by_restore -= server.info()["ops"]
    log(f"  restore dropped {lost_by_restore} ops on the server; clients must re-push them")
    STATS.add("ops dropped by restore", lost_by_restore)
    # A little more work after the restore, then everyone syncs.
    devices[0].local_op(shared)
    settle(devices, 2)
    account("epoch", server, devices)
    server.stop()
    return 0


PHASES = {
    "client-kill": phase_client_kill,
    "server-kill": phase_server_kill,
    "concurrent": phase_concurrent,
    "starve": phase_starve,
    "disk-full": phase_disk_full,
    "clock-skew": phase_clock_skew,
    "epoch": phase_epoch,
}

SCALES = {
    "short": dict(fp_rounds=6, random_kills=16, import_kills=6, bulk=120, server_devices=4, server_kills=12, server_fp_rounds=2,
                  concurrent_devices=16, concurrent_rounds=3,
                  starve_devices=6, starve_rounds=3, silent_sockets=12),
    "long": dict(fp_rounds=25, random_kills=120, import_kills=40, bulk=300, server_devices=6, server_kills=90, server_fp_rounds=10,
                 concurrent_devices=16, concurrent_rounds=12,
                 starve_devices=8, starve_rounds=12, silent_sockets=16),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--short", action="store_const", dest="scale", const="short", help="CI size (default)")
    size.add_argument("--long", action="store_const", dest="scale", const="long", help="hundreds of kills")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of: {', '.join(PHASES)}")
    parser.add_argument("--bin", default=None, help="directory holding synccli and syncserver (default .build/debug)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", default=None, help="keep files here (default: a temporary directory, removed)")
    parser.add_argument("--json", dest="json_out", default=None, help="write the figures to this file")
    ARGS = h.ARGS = parser.parse_args()
    ARGS.scale = ARGS.scale or "short"
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    bindir = ARGS.bin or os.path.join(repo, ".build", "debug")
    ARGS.synccli = os.path.join(bindir, "synccli")
    ARGS.syncserver = os.path.join(bindir, "syncserver")
    for exe in (ARGS.synccli, ARGS.syncserver):
        if not os.access(exe, os.X_OK):
            sys.exit(f"missing {exe}: run `swift build` first (or pass --bin)")
    ARGS.seed = ARGS.seed if ARGS.seed is not None else random.randrange(1 << 30)
    random.seed(ARGS.seed)
    scale = SCALES[ARGS.scale]
    root = ARGS.workdir or tempfile.mkdtemp(prefix="articlesync-faults-")
    os.makedirs(root, exist_ok=True)
    # Run copies, so that a rebuild meanwhile (others share .build) cannot swap a binary mid-run.
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    for attr in ("synccli", "syncserver"):
        copy = os.path.join(root, "bin", attr)
        for _ in range(60):
            try:
                shutil.copy2(getattr(ARGS, attr), copy)
                break
            except OSError:
                time.sleep(2)
        setattr(ARGS, attr, copy)
    log(f"fault suite ({ARGS.scale}, seed {ARGS.seed}) in {root}")
    started = time.time()
    figures = {"scale": ARGS.scale, "seed": ARGS.seed, "phases": {}}
    for name in [p.strip() for p in ARGS.phases.split(",") if p.strip()]:
        if name not in PHASES:
            sys.exit(f"unknown phase {name}; phases: {', '.join(PHASES)}")
        log(f"phase {name}")
        t0 = time.time()
        before = len(STATS.failures)
        try:
            kills = PHASES[name](root, scale)
        except Failure as e:
            STATS.fail(f"{name}: {e}")
            kills = 0
        except Exception as e:  # a bug in the suite itself must not pass silently
            STATS.fail(f"{name}: {type(e).__name__}: {e}")
            kills = 0
        finally:
            h.stop_all_servers()
        figures["phases"][name] = {"kills": kills, "seconds": round(time.time() - t0, 1),
                                   "failures": len(STATS.failures) - before}
        log(f"phase {name}: {kills} kills, {time.time() - t0:.1f} s, {len(STATS.failures) - before} failures")
    figures["counts"] = STATS.counts
    figures["failures"] = STATS.failures
    figures["seconds"] = round(time.time() - started, 1)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if ARGS.json_out:
        with open(ARGS.json_out, "w") as f:
            json.dump(figures, f, indent=2, ensure_ascii=False)
    if not ARGS.workdir:
        for mount in ("df-srv-fs", "df-cli-fs"):
            subprocess.run(["umount", "-l", os.path.join(root, mount)], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    if STATS.failures:
        log(f"FAILED: {len(STATS.failures)} check(s) failed (seed {ARGS.seed})")
        sys.exit(1)
    log(f"OK: every check passed in {time.time() - started:.0f} s (seed {ARGS.seed})")


if __name__ == "__main__":
    main()
