"""Shared pieces of the fault suite and the soak (scripts/faults/): the real `syncserver` and
`synccli` processes (Server, Device), the end-of-phase accounting (0 lost, 0 duplicated, no
holes, integrity ok, converged), worker threads whose crash is a failed check, and small
helpers (HTTP, /metrics, tmpfs). Set `ARGS` (seed, synccli, syncserver) before use.
Python 3 standard library only.
"""
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request

HOUR = 3_600_000
DAY = 24 * HOUR
YEAR = 365 * DAY

WORDS = ("غزة", "الضفة", "مراسل", "بيان", "وزارة", "مصدر", "news", "report", "source", "press",
         "القدس", "تقرير", "agency", "wire", "نازحون", "مستشفى", "ceasefire", "talks")


class Failure(Exception):
    pass


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def fail(self, message):
        with self.lock:
            self.failures.append(message)
        print(f"  FAIL: {message}", flush=True)


STATS = Stats()
ARGS = None
SERVERS = []  # every Server made, so that a phase that fails half-way leaves no process behind


def stop_all_servers():
    for server in SERVERS:
        if server.alive():
            server.stop(signal.SIGKILL)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url, token=None, timeout=5, with_headers=False):
    """(status, body), or (status, headers, body) with `with_headers`; HTTP errors are answers."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read()
    return (status, headers, body) if with_headers else (status, body)


def random_text(rng, words):
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(words))


# ---------------------------------------------------------------------------------------------
# Processes


class Server:
    def __init__(self, root, name="srv"):
        self.dir = os.path.join(root, name)
        self.port = None
        self.proc = None
        self.logpath = os.path.join(root, name + ".log")
        self.library = "lib"
        self.tokens = []
        SERVERS.append(self)

    def admin(self, *args):
        result = subprocess.run([ARGS.syncserver, *args, "--data", self.dir], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise Failure(f"syncserver {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def create(self):
        self.admin("library", "create", self.library)

    def enroll(self, name):
        out = self.admin("device", "enroll", "--library", self.library, "--name", name)
        token = next(line.split()[1] for line in out.splitlines() if line.startswith("token:"))
        self.tokens.append(token)
        return token

    def start(self, failpoints="", extra_env=None):
        env = dict(os.environ)
        env.pop("ARTICLESYNC_FAILPOINTS", None)
        if failpoints:
            env["ARTICLESYNC_FAILPOINTS"] = failpoints
        env.update(extra_env or {})
        for attempt in range(40):
            if self.port is None:
                self.port = free_port()
            with open(self.logpath, "a") as logfile:
                self.proc = subprocess.Popen([ARGS.syncserver, "serve", "--data", self.dir, "--port", str(self.port),
                                              "--log-level", "warning"], stdout=logfile, stderr=subprocess.STDOUT,
                                             env=env)
            deadline = time.time() + 15
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    if http(f"{self.url}/healthz", timeout=1)[0] == 200:
                        return
                except OSError:
                    pass
                time.sleep(0.05)
            self.stop(signal.SIGKILL)
            time.sleep(0.25)  # port busy (another user's process?), retry the same port a while
            if attempt > 20:
                self.port = None
        raise Failure(f"server does not start (see {self.logpath})")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            STATS.fail(f"server did not exit within {timeout}s of signal {sig}")
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def info(self):
        status, body = http(f"{self.url}/v1/libraries/{self.library}", token=self.tokens[0])
        if status != 200:
            raise Failure(f"library info: HTTP {status} {body[:200]!r}")
        return json.loads(body)

    def integrity(self):
        db = sqlite3.connect(os.path.join(self.dir, "server.sqlite"), timeout=30)
        try:
            return db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()


class Device:
    def __init__(self, root, server, name, offset_ms=0, store_dir=None):
        self.name = name
        self.server = server
        self.store = os.path.join(store_dir or root, name + ".sqlite")
        self.offset_ms = offset_ms
        self.rng = random.Random(f"{ARGS.seed}-{name}")
        self.articles = []
        self.committed = 0  # own op count after the last local command that exited 0
        self.replica = None
        self.token = None

    def __repr__(self):
        return self.name

    def env(self, failpoints=""):
        env = dict(os.environ)
        env["ARTICLESYNC_STORE"] = self.store
        env.pop("ARTICLESYNC_FAILPOINTS", None)
        if failpoints:
            env["ARTICLESYNC_FAILPOINTS"] = failpoints
        if self.offset_ms:
            env["ARTICLESYNC_CLOCK_OFFSET_MS"] = str(self.offset_ms)
        else:
            env.pop("ARTICLESYNC_CLOCK_OFFSET_MS", None)
        return env

    def run(self, *args, stdin=None, failpoints="", timeout=180):
        result = subprocess.run([ARGS.synccli, *args], input=stdin, capture_output=True, text=True,
                                env=self.env(failpoints), timeout=timeout)
        STATS.add("synccli runs")
        return result.returncode, result.stdout, result.stderr

    def must(self, *args, stdin=None):
        rc, out, err = self.run(*args, stdin=stdin)
        if rc != 0:
            raise Failure(f"{self.name}: synccli {' '.join(args)} exited {rc}: {err.strip()[:300]}")
        return out

    def setup(self):
        self.token = self.server.enroll(self.name)
        self.replica = json.loads(self.must("init", "--name", self.name, "--json"))["replica"]
        self.remote()

    def remote(self):
        self.must("remote", "set", self.server.url, "--library", self.server.library, "--token", self.token)

    def popen_sync(self, failpoints="", attempts=6):
        return subprocess.Popen([ARGS.synccli, "sync", "--attempts", str(attempts)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env(failpoints))

    def sync(self, failpoints="", attempts=6, timeout=300):
        rc, out, err = self.run("sync", "--attempts", str(attempts), failpoints=failpoints, timeout=timeout)
        return rc, err.strip()

    def status(self):
        return json.loads(self.must("status", "--json"))

    def own_ops(self):
        return self.status()["ownOps"]

    def note_committed(self):
        own = self.own_ops()
        if own < self.committed:
            STATS.fail(f"{self.name}: own op count went back from {self.committed} to {own} (lost local ops)")
        self.committed = own

    def local_op(self, shared=()):
        """One random local edit; the articles in `shared` are edited by every device (overlap)."""
        rng = self.rng
        choice = rng.random()
        pool = list(shared) + self.articles
        if choice < 0.25 or not pool:
            text = f"{random_text(rng, 4)}\n{random_text(rng, 8)}\n{random_text(rng, 40)}\n"
            out = self.must("add", "-", "--json", "--tag", rng.choice(WORDS), stdin=text)
            self.articles.append(json.loads(out)["id"])
        elif choice < 0.55:
            self.must("edit", rng.choice(pool), "--title", random_text(rng, 3))
        elif choice < 0.8:
            self.must("tag", "add", rng.choice(pool), rng.choice(WORDS))
        elif choice < 0.9:
            target, tag = rng.choice(pool), rng.choice(WORDS)
            rc, _, err = self.run("tag", "remove", target, tag)
            if rc != 0 and "has no tag" not in err:
                raise Failure(f"{self.name}: tag remove exited {rc}: {err.strip()[:300]}")
            if rc != 0:  # removing an absent tag is refused (no op): add it, so every call makes an op
                self.must("tag", "add", target, tag)
        else:
            self.must("edit", rng.choice(pool), "--star" if rng.random() < 0.5 else "--unstar")
        self.note_committed()

    def library_lines(self, n, label="bulk", body_words=60):
        """n new random articles as a JSON Lines library file (the `synccli import` format)."""
        rng = self.rng
        lines = [json.dumps({"title": f"{self.name} {label} {rng.randrange(10**9)}", "body": random_text(rng, body_words),
                             "tags": [rng.choice(WORDS)]}, ensure_ascii=False) for _ in range(n)]
        return "\n".join(lines) + "\n"

    def bulk_import(self, n, body_words=60):
        """n new articles in one command: long pushes and pulls (wider windows for random kills)."""
        self.must("import", "-", stdin=self.library_lines(n, body_words=body_words))
        self.note_committed()

    def article_ids(self):
        db = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True, timeout=30)
        try:
            return {i for (i,) in db.execute("SELECT id FROM articles")}
        finally:
            db.close()

    def store_vv(self):
        """{replica hex: (count, max counter)} read straight from the store's op log."""
        db = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True, timeout=30)
        try:
            rows = db.execute("SELECT lower(hex(replica)), COUNT(*), MAX(counter) FROM ops GROUP BY replica").fetchall()
        finally:
            db.close()
        return {r: (n, m) for r, n, m in rows}

    def holes(self):
        return {r: (n, m) for r, (n, m) in self.store_vv().items() if n != m}


# ---------------------------------------------------------------------------------------------
# Accounting


def account(label, server, devices, expect_absent=()):
    """The end-of-phase checks. `expect_absent`: devices whose ops the server must NOT hold
    (refused for clock skew); they are left out of convergence but checked for holes/integrity."""
    checked = [d for d in devices if d not in expect_absent]
    own = {}
    for d in devices:
        status = d.status()
        own[d.replica] = status["ownOps"]
        if status["ownOps"] < d.committed:
            STATS.fail(f"{label}: {d.name} holds {status['ownOps']} own ops, {d.committed} were committed (lost)")
        rc, out, err = d.run("doctor")
        if rc != 0 or "integrity ok" not in out:
            STATS.fail(f"{label}: {d.name} doctor: rc {rc} {out.strip()} {err.strip()}")
        STATS.add("integrity checks")
    lost = 0
    for d in devices:
        vv = d.store_vv()
        if d.holes():
            STATS.fail(f"{label}: {d.name} has holes in its op log: {d.holes()}")
        if vv.get(d.replica, (0, 0))[1] != own[d.replica]:
            STATS.fail(f"{label}: {d.name} status ownOps {own[d.replica]} != its op log {vv.get(d.replica)}")
        if d in expect_absent:
            continue
        for e in checked:
            have = vv.get(e.replica, (0, 0))[1]
            if have != own[e.replica]:
                lost += abs(own[e.replica] - have)
                STATS.fail(f"{label}: {d.name} holds {have} ops of {e.name}, which has {own[e.replica]}")
    info = server.info()
    total = sum(own[d.replica] for d in checked)
    for d in devices:
        held = info["replicas"].get(d.replica, 0)
        want = 0 if d in expect_absent else own[d.replica]
        if held != want:
            STATS.fail(f"{label}: server holds {held} ops of {d.name}, expected {want}")
    duplicated = max(0, info["ops"] - total)
    if info["ops"] != total:
        STATS.fail(f"{label}: server library info ops {info['ops']} != sum of own counts {total}")
    exports = {}
    for d in checked:
        exports.setdefault(d.must("export"), []).append(d.name)
    if len(exports) != 1:
        STATS.fail(f"{label}: exports differ: {[names for names in exports.values()]}")
    integrity = server.integrity()
    if integrity != "ok":
        STATS.fail(f"{label}: server.sqlite integrity_check: {integrity}")
    STATS.add("ops checked", total)
    STATS.add("lost", lost)
    STATS.add("duplicated", duplicated)
    STATS.add("accountings")
    log(f"  {label}: {len(devices)} stores, {total} ops, lost {lost}, duplicated {duplicated}, "
        f"converged {len(exports) == 1}, server integrity {integrity}")


def spawn(target, *args):
    """A daemon thread whose uncaught exception is a failed check, not a silent dead worker."""
    def body():
        try:
            target(*args)
        except Exception as e:  # noqa: BLE001 - any crash of a worker is reported
            STATS.fail(f"worker {getattr(target, '__name__', target)}{tuple(args)} died: {type(e).__name__}: {e}")
    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def settle(devices, rounds=2):
    """Everyone syncs until nobody has anything left: round 1 pushes, round 2 pulls the rest."""
    for _ in range(rounds):
        for d in devices:
            rc, err = d.sync()
            if rc != 0:
                STATS.fail(f"settle: {d.name} sync exited {rc}: {err[:300]}")


def fresh(root, name, n, offsets=None, store_dir=None, server_dir_root=None):
    server = Server(server_dir_root or root, name)
    server.create()
    devices = [Device(root, server, f"{name}-d{i}", (offsets or {}).get(i, 0), store_dir) for i in range(n)]
    enrol_and_start(server, devices)
    return server, devices


def enrol_and_start(server, devices):
    """Enrols every device on the (created, stopped) server, starts it, inits each store and
    points it at the server."""
    for d in devices:
        d.token = server.enroll(d.name)
    server.start()
    for d in devices:
        d.replica = json.loads(d.must("init", "--name", d.name, "--json"))["replica"]
        d.remote()


def seed_shared(devices, n=3):
    """Articles every device edits (overlapping edits), created by device 0 and synced to all."""
    for _ in range(n):
        devices[0].local_op()
    shared = list(devices[0].articles)
    devices[0].articles.clear()
    settle(devices, 1)
    return shared


def metric_total(server, name, label=""):
    """Sum of a Prometheus counter on the server's /metrics, over the series holding `label`."""
    status, body = http(f"{server.url}/metrics")
    if status != 200:
        raise Failure(f"/metrics: HTTP {status}")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name) and label in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], capture_output=True, text=True)
    return result.returncode == 0


def fill(path, leave_bytes):
    """Fills the file system of `path` until `leave_bytes` remain free; returns the filler."""
    filler = os.path.join(path, "filler")
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler
