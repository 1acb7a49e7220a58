import BenchKit
import Foundation
import SyncClientKit
public import SyncModel
public import SyncStore
import SyncWire
import TestHarness

// articlesync-bench: the standard workload end to end on three real stores syncing through a
// real `syncserver` process on loopback. See BENCHMARKS.md.
//
//   swift build -c release --product syncserver && swift run -c release articlesync-bench --size medium
//
// Options: --size small|medium|large (default medium) | --workload FILE, --seed N (42),
//          --server PATH (default: syncserver next to this executable), --dir DIR (kept),
//          --json-out FILE, --noop-repeats N (30), --push-concurrently,
//          --deterministic (replica ids, clocks and ids from the workload: identical dumps every run),
//          --dump-dir DIR (write each store's canonicalDump() there after convergence)
//
//   articlesync-bench search [--articles N] …   full-text search on one store, no server (SearchBench.swift)
//   articlesync-bench opcount prepare|import|merge …   the import and merge paths alone, for callgrind (OpCount.swift)

struct Options {
    var size = "medium"
    var seed = 42
    var workload: String?
    var server: String?
    var dir: String?
    var jsonOut: String?
    var noopRepeats = 30
    var concurrentPush = false
    var deterministic = false
    var dumpDir: String?

    init(_ args: [String]) throws {
        var it = args.dropFirst().makeIterator()
        func value(_ name: String) throws -> String {
            guard let v = it.next() else { throw BenchError("\(name) needs a value") }
            return v
        }
        while let arg = it.next() {
            switch arg {
            case "--size": size = try value(arg)
            case "--seed": seed = Int(try value(arg)) ?? 42
            case "--workload": workload = try value(arg)
            case "--server": server = try value(arg)
            case "--dir": dir = try value(arg)
            case "--json-out": jsonOut = try value(arg)
            case "--noop-repeats": noopRepeats = Int(try value(arg)) ?? 30
            case "--push-concurrently": concurrentPush = true
            case "--deterministic": deterministic = true
            case "--dump-dir": dumpDir = try value(arg)
            case "-h", "--help":
                print(
                    "usage: articlesync-bench [--size small|medium|large] [--workload FILE] [--seed N] [--server PATH] [--dir DIR] [--json-out FILE] [--deterministic] [--dump-dir DIR]\n       articlesync-bench search [--articles N] … (SearchBench.swift)\n       articlesync-bench opcount prepare|import|merge … (see scripts/bench/opcount.sh)"
                )
                exit(0)
            default: throw BenchError("unknown argument \(arg)")
            }
        }
    }
}

struct PhaseResult: Codable {
    var name: String
    var seconds: Double
    var ops: Int
    var opsPerSecond: Double
    var requests: Int
    var bytesSent: Int
    var bytesReceived: Int
    /// Peak RSS during the phase (VmHWM reset before it), KiB.
    var serverPeakKiB: Int
    var clientPeakKiB: Int
    var storeBytes: [String: Int]
    var serverDataBytes: Int
    var detail: [String: Double] = [:]
}

struct Result: Codable {
    var size: String
    var articles: Int
    var baseOps: Int
    var streamOps: [String: Int]
    var machine: [String: String]
    var phases: [PhaseResult]
    var converged: Bool
    var convergeSeconds: Double
    var convergeBytes: Int
    var noopPull: [String: Double]
    var noopSync: [String: Double]
    var searchMillis: [String: Double]
}

@main
struct BenchMain {
    static func main() async {
        do {
            switch CommandLine.arguments.dropFirst().first {
            case "search": return try SearchBench.run(SearchBenchOptions(CommandLine.arguments.dropFirst(2)))
            case "opcount": return try OpCount.run(Array(CommandLine.arguments.dropFirst(2)))
            case "trace": return try TraceBench.run(TraceBenchOptions(CommandLine.arguments.dropFirst(2)))
            default: break
            }
            try await run(try Options(CommandLine.arguments))
        } catch {
            FileHandle.standardError.write(Data("articlesync-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func repoRoot() -> String {
        // Walk up from the current directory to the package root (where scripts/bench lives).
        var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("scripts/bench/workload.py").path) { return dir.path }
            dir.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    static func run(_ options: Options) async throws {
        let root = repoRoot()
        let base = options.dir ?? NSTemporaryDirectory() + "articlesync-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if options.dir == nil { try? FileManager.default.removeItem(atPath: base) } }

        // 1. Workload.
        let workloadPath: String
        if let path = options.workload {
            workloadPath = path
        } else {
            workloadPath = base + "/workload-\(options.size).json"
            var env = ProcessInfo.processInfo.environment
            if env["SEED_ARTICLE"] == nil { env["SEED_ARTICLE"] = root + "/Tests/Fixtures/seed-article-ar.txt" }
            try BenchE2E_run(
                "/usr/bin/env",
                [
                    "python3", root + "/scripts/bench/workload.py", "--size", options.size,
                    "--seed", String(options.seed), "-o", workloadPath,
                ], environment: env)
        }
        let workload = try Workload.load(from: URL(fileURLWithPath: workloadPath))
        let replay = WorkloadReplay(workload)
        log(
            "workload \(options.size): \(workload.meta.n_articles) articles, \(workload.base.count) base ops, "
                + "\(workload.streamOpCount) stream ops")

        // 2. Server: library, three devices, serve (the same process helper the tests use).
        if let server = options.server { setenv("SYNCSERVER_BIN", server, 1) }
        guard FileManager.default.isExecutableFile(atPath: Binaries.syncserver) else {
            throw BenchError("no syncserver at \(Binaries.syncserver): run `swift build -c release --product syncserver` or pass --server")
        }
        let server = try ServerProcess(directory: base, library: "bench")
        var tokens: [String: String] = [:]
        for name in ["A", "B", "C"] { tokens[name] = try server.enroll(name).token }
        try server.start(
            environment: ["ARTICLESYNC_RATE_LIMIT_PER_SECOND": "1000000", "ARTICLESYNC_RATE_LIMIT_BURST": "1000000"],
            logLevel: "warning")
        defer { server.stop() }
        let serverPID = server.child!.pid
        let data = server.data
        let url = server.url
        let probe = HTTPTransport(baseURL: url, timeout: .seconds(2))
        log("syncserver pid \(serverPID) on \(url)")

        // 3. Stores and clients.
        var stores: [String: Store] = [:]
        var clients: [String: SyncClient] = [:]
        let counter = CountingTransport(HTTPTransport(baseURL: url))
        let clock = WorkloadClock()
        if options.deterministic { replay.clock = clock }
        for name in ["A", "B", "C"] {
            let path = base + "/\(name).sqlite"
            let store =
                options.deterministic
                ? try Store.create(
                    at: path, name: "bench-\(name)", replica: Deterministic.replica(name), now: clock.now,
                    identifiers: SeededIdentifiers(seed: "bench-\(name)").make)
                : try Store.create(at: path, name: "bench-\(name)")
            try store.setRemote(Remote(url: url, library: "bench"), token: tokens[name]!)
            stores[name] = store
            clients[name] = try SyncClient(store: store, transport: counter, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05))
        }
        let names = ["A", "B", "C"]

        var phases: [PhaseResult] = []
        func phase(_ name: String, _ body: () async throws -> (ops: Int, detail: [String: Double])) async throws {
            _ = counter.take()
            ProcStat.resetPeak()
            ProcStat.resetPeak(pid: serverPID)
            let clock = Stopwatch()
            let (ops, detail) = try await body()
            let seconds = clock.seconds
            let wire = counter.take()
            var sizes: [String: Int] = [:]
            for n in names { sizes[n] = storeBytes(base + "/\(n).sqlite") }
            let result = PhaseResult(
                name: name, seconds: seconds, ops: ops, opsPerSecond: Double(ops) / seconds,
                requests: wire.requests, bytesSent: wire.sent, bytesReceived: wire.received,
                serverPeakKiB: ProcStat.peakKiB(pid: serverPID), clientPeakKiB: ProcStat.peakKiB(),
                storeBytes: sizes, serverDataBytes: directoryBytes(data), detail: detail)
            phases.append(result)
            log(
                name.padding(toLength: 24, withPad: " ", startingAt: 0)
                    + String(
                        format: "%8.3f s %8d ops %10.0f ops/s %5d req  up %9d B  down %9d B  server %6d KiB  client %6d KiB",
                        seconds, ops, result.opsPerSecond, wire.requests, wire.sent, wire.received,
                        result.serverPeakKiB, result.clientPeakKiB))
        }

        // P1 base import on A.
        try await phase("import base on A") {
            let report = try replay.replayBase(on: stores["A"]!)
            return (report.ops, [:])
        }
        // P2 A pushes the base.
        try await phase("A push base") {
            let r = try await clients["A"]!.push()
            return (r.opsSent, ["changesets": Double(r.changesets)])
        }
        // P3 B and C pull it.
        for n in ["B", "C"] {
            try await phase("\(n) pull base") {
                let r = try await clients[n]!.pull()
                return (r.opsApplied, ["pages": Double(r.pages)])
            }
        }
        // P4 offline streams.
        for n in names {
            try await phase("\(n) offline stream") {
                let r = try replay.replayStream(n, on: stores[n]!)
                return (r.emittedOps, ["applied": Double(r.totalApplied), "skipped": Double(r.totalSkipped)])
            }
        }
        // P5 all push, all pull until converged. A deterministic clock now reads the workload's last
        // timestamp, so that no replica sees another's ops as coming from its future.
        if options.deterministic, let last = (workload.base + workload.streams.values.joined()).map(\.ts).max() {
            clock.set(UInt64(last))
        }
        let convergeStart = phases.count
        if options.concurrentPush {
            try await phase("A+B+C push (concurrent)") {
                let all = names.map { clients[$0]! }
                return try await withThrowingTaskGroup(of: Int.self) { group in
                    for client in all { group.addTask { try await client.push().opsSent } }
                    return (try await group.reduce(0, +), [:])
                }
            }
        } else {
            for n in names {
                try await phase("\(n) push stream") {
                    let r = try await clients[n]!.push()
                    return (r.opsSent, [:])
                }
            }
        }
        var converged = false
        var round = 0
        while !converged && round < 3 {
            round += 1
            for n in names {
                try await phase("\(n) pull (round \(round))") {
                    let r = try await clients[n]!.pull()
                    return (r.opsApplied, ["pages": Double(r.pages), "received": Double(r.opsReceived)])
                }
            }
            let dumps = try names.map { try stores[$0]!.canonicalDump() }
            converged = dumps.allSatisfy { $0 == dumps[0] }
            if !converged {
                // Anything a replica still holds unpushed (none expected) goes out before the next round.
                for n in names { _ = try await clients[n]!.push() }
            }
        }
        let convergePhases = phases[convergeStart...]
        let convergeSeconds = convergePhases.reduce(0) { $0 + $1.seconds }
        let convergeBytes = convergePhases.reduce(0) { $0 + $1.bytesSent + $1.bytesReceived }
        if let dumpDir = options.dumpDir {
            try FileManager.default.createDirectory(atPath: dumpDir, withIntermediateDirectories: true)
            for n in names { try stores[n]!.canonicalDump().write(toFile: dumpDir + "/\(n).dump", atomically: true, encoding: .utf8) }
            log("canonical dumps written to \(dumpDir)")
        }
        log(
            String(
                format: "converged: %@ after %d pull round(s); push all + pull all %.3f s, %d bytes on the wire",
                converged ? "yes (identical canonicalDump)" : "NO", round, convergeSeconds, convergeBytes))

        // P6 "nothing changed": one pull on a converged library (one request, 204), and a full sync.
        let a = clients["A"]!
        var pullTimes: [Double] = [], syncTimes: [Double] = []
        _ = counter.take()
        for _ in 0..<options.noopRepeats {
            let c = Stopwatch(); _ = try await a.pull(); pullTimes.append(c.seconds * 1000)
        }
        let pullRequests = Double(counter.take().requests) / Double(options.noopRepeats)
        for _ in 0..<options.noopRepeats {
            let c = Stopwatch(); _ = try await a.sync(); syncTimes.append(c.seconds * 1000)
        }
        let syncRequests = Double(counter.take().requests) / Double(options.noopRepeats)
        let noopPull = [
            "median_ms": median(pullTimes), "p90_ms": percentile(pullTimes, 0.9), "max_ms": pullTimes.max() ?? .nan,
            "requests": pullRequests,
        ]
        let noopSync = [
            "median_ms": median(syncTimes), "p90_ms": percentile(syncTimes, 0.9), "max_ms": syncTimes.max() ?? .nan,
            "requests": syncRequests,
        ]
        log(
            String(
                format: "nothing-changed pull on %d articles: median %.2f ms, p90 %.2f ms, %.0f request(s); sync(): median %.2f ms, %.0f request(s)",
                workload.meta.n_articles, noopPull["median_ms"]!, noopPull["p90_ms"]!, pullRequests, noopSync["median_ms"]!, syncRequests))

        // P7 search latency on the converged store.
        var searchTimes: [String: Double] = [:]
        for query in ["غزة", "الحكومة", "مستشفى", "الأمم المتحدة"] {
            var times: [Double] = []
            for _ in 0..<20 { let c = Stopwatch(); _ = try stores["A"]!.search(query); times.append(c.seconds * 1000) }
            searchTimes[query] = median(times)
        }
        log(
            "search (median ms): "
                + searchTimes.sorted { $0.key < $1.key }.map { "\($0.key)=" + String(format: "%.2f", $0.value) }.joined(separator: " "))

        let serverMetrics = try? await probe.send(SyncRequest(method: "GET", path: "/metrics"))
        if let body = serverMetrics?.body {
            let lines = String(decoding: body, as: UTF8.self).split(separator: "\n")
                .filter { $0.hasPrefix("articlesync_bytes") || $0.hasPrefix("articlesync_ops_stored") }
            log("server /metrics: " + lines.joined(separator: "; "))
        }

        var machine: [String: String] = [:]
        if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            machine["loadavg_end"] = load.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        machine["cpus"] = String(ProcessInfo.processInfo.activeProcessorCount)
        let result = Result(
            size: options.size, articles: workload.meta.n_articles, baseOps: workload.base.count,
            streamOps: workload.streams.mapValues(\.count), machine: machine, phases: phases,
            converged: converged, convergeSeconds: convergeSeconds, convergeBytes: convergeBytes,
            noopPull: noopPull, noopSync: noopSync, searchMillis: searchTimes)
        if let out = options.jsonOut {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: out))
            log("wrote \(out)")
        }
        guard converged else { throw BenchError("replicas did not converge") }
    }

    static func log(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }
}

@discardableResult
func BenchE2E_run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    try run(executable, arguments, environment: environment)
}
