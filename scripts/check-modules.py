#!/usr/bin/env python3
"""Checks the module graph that Package.swift declares (README, "Code layout").

1. What each module may import: the pure modules (SyncModel, SyncWire) import no storage or
   network library, the server's HTTP layer no database, and no server module the laptop's store
   or HTTP client. Checked on the `import` lines of every source file, and on the dependencies
   Package.swift declares (`swift package dump-package`).
2. What the server links: after a build, `syncserver`'s link list must not contain the laptop
   store (SyncStore), the sync client (SyncClientKit) or AsyncHTTPClient.

    scripts/check-modules.py                 # imports + manifest
    scripts/check-modules.py --linked debug  # also the link list of .build/debug (after `swift build`)

Exit 1 with one line per violation.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# module -> (source folder, imports it may use). Anything else imported is a violation.
ALLOWED = {
    "SyncModel": ("Sources/SyncCore/Model", {"Foundation", "FoundationEssentials", "Crypto", "Glibc"}),
    "SyncWire": ("Sources/SyncCore/Wire", {"Foundation", "FoundationEssentials", "Crypto", "CZlib", "SyncModel", "Glibc"}),
    "SyncFailpoints": ("Sources/SyncCore/Failpoints", {"Foundation", "Glibc"}),
    "ServerStorage": ("Sources/SyncServer/Storage", {"Foundation", "SyncModel", "SyncWire", "ServiceLifecycle"}),
}
# module -> imports it must never use.
FORBIDDEN = {
    "SyncServerKit": ("Sources/SyncServer/Kit", {"GRDB", "SQLite3", "ServerStoreSQLite", "SyncStore", "SyncClientKit", "AsyncHTTPClient"}),
    "ServerStoreSQLite": ("Sources/SyncServer/SQLite", {"SyncStore", "SyncClientKit", "AsyncHTTPClient", "Hummingbird", "SyncServerKit"}),
    "SyncServerCommands": ("Sources/SyncServer/Commands", {"SyncStore", "SyncClientKit", "AsyncHTTPClient", "GRDB"}),
    "SyncStore": ("Sources/SyncCore/Store", {"AsyncHTTPClient", "NIOCore", "NIOPosix", "Hummingbird", "SyncClientKit"}),
    "synccli": ("Sources/synccli", {"GRDB"}),
}
# The server executable must not link these.
NOT_LINKED_BY_SERVER = {"SyncStore", "SyncClientKit", "AsyncHTTPClient"}

IMPORT = re.compile(r"^\s*(?:@testable\s+|@_exported\s+)?(?:public\s+|internal\s+|package\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def imports(folder):
    found = []
    for base, _, files in os.walk(os.path.join(ROOT, folder)):
        for name in files:
            if not name.endswith(".swift"):
                continue
            path = os.path.join(base, name)
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    m = IMPORT.match(line)
                    if m:
                        found.append((os.path.relpath(path, ROOT), number, m.group(1)))
    return found


def check_imports():
    problems = []
    for module, (folder, allowed) in ALLOWED.items():
        for path, line, name in imports(folder):
            if name not in allowed:
                problems.append(f"{path}:{line}: {module} imports {name}; it may import only {', '.join(sorted(allowed))}")
    for module, (folder, forbidden) in FORBIDDEN.items():
        for path, line, name in imports(folder):
            if name in forbidden:
                problems.append(f"{path}:{line}: {module} must not import {name}")
    return problems


def check_manifest():
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        return [f"swift package dump-package failed: {out.stderr.strip()}"]
    manifest = json.loads(out.stdout)
    deps = {}
    for target in manifest["targets"]:
        names = set()
        for dep in target.get("dependencies", []):
            for kind in ("byName", "target", "product"):
                if kind in dep:
                    names.add(dep[kind][0])
        deps[target["name"]] = names
    problems = []
    for module, (_, allowed) in ALLOWED.items():
        extra = deps.get(module, set()) - allowed
        if extra:
            problems.append(f"Package.swift: {module} depends on {', '.join(sorted(extra))}")

    # The server executable's transitive target dependencies inside this package.
    seen, todo = set(), ["SyncServer"]
    while todo:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        todo.extend(d for d in deps.get(t, ()) if d in deps)
    for bad in NOT_LINKED_BY_SERVER:
        if bad in seen:
            problems.append(f"Package.swift: the syncserver executable depends on {bad}")
    return problems


def check_linked(configuration):
    path = os.path.join(ROOT, ".build", configuration, "syncserver.product", "Objects.LinkFileList")
    if not os.path.exists(path):
        return [f"{path} is missing: build first (swift build)"]
    with open(path) as f:
        modules = set(re.findall(r"/([A-Za-z0-9_]+)\.build/", f.read()))
    return [f"syncserver links {m} ({path})" for m in sorted(modules & NOT_LINKED_BY_SERVER)]


def main():
    problems = check_imports() + check_manifest()
    if "--linked" in sys.argv:
        problems += check_linked(sys.argv[sys.argv.index("--linked") + 1])
    for p in problems:
        print(p)
    if problems:
        print(f"check-modules: {len(problems)} violation(s) of the module graph", file=sys.stderr)
        return 1
    print("check-modules: the module graph holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
