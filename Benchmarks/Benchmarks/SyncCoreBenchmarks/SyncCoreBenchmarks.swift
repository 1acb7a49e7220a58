import BenchKit
import Benchmark
import Foundation
import SyncModel
import SyncStore
import SyncWire

// Micro-benchmarks of SyncCore on the standard workload (scripts/bench/workload.py, seed 42):
// local writes (single edits, bulk import), changeset encode/decode, merge into a store holding
// 10,000 articles, and Arabic full-text search on 10,000 articles. Thresholds: ../Thresholds/.
// Run from Benchmarks/: `swift package benchmark` (BENCHMARKS.md).

/// Workloads and template stores, built once per benchmark process.
final class Fixtures: @unchecked Sendable {
    static let shared = Fixtures()
    let lock = NSLock()
    let dir: String
    let root: String

    init() {
        // Benchmarks/Benchmarks/SyncCoreBenchmarks/SyncCoreBenchmarks.swift → repository root.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        root = ProcessInfo.processInfo.environment["ARTICLESYNC_ROOT"] ?? url.path
        dir = NSTemporaryDirectory() + "articlesync-microbench-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Workloads and store copies are large (~100 MB for the large workload): remove them on exit.
        atexit { try? FileManager.default.removeItem(atPath: Fixtures.shared.dir) }
    }

    private var workloads: [String: Workload] = [:]
    private var templates: [String: String] = [:]
    private var mergeOpsCache: [Op]?
    private var counter = 0

    func workload(_ size: String) -> Workload {
        lock.lock(); defer { lock.unlock() }
        if let w = workloads[size] { return w }
        let out = dir + "/workload-\(size).json"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root + "/scripts/bench/workload.py", "--size", size, "--seed", "42", "-o", out]
        var env = ProcessInfo.processInfo.environment
        if env["SEED_ARTICLE"] == nil { env["SEED_ARTICLE"] = root + "/Tests/Fixtures/seed-article-ar.txt" }
        process.environment = env
        try! process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "workload.py failed")
        let w = try! Workload.load(from: URL(fileURLWithPath: out))
        workloads[size] = w
        return w
    }

    func freshPath(_ label: String) -> String {
        lock.lock(); defer { lock.unlock() }
        counter += 1
        return dir + "/\(label)-\(counter).sqlite"
    }

    /// A store file holding the imported base of `size` (replica A), closed and checkpointed.
    func template(_ size: String) -> String {
        let w = workload(size)
        lock.lock()
        if let t = templates[size] { lock.unlock(); return t }
        lock.unlock()
        let path = dir + "/template-\(size).sqlite"
        do {
            let store = try! Store.create(at: path, name: "template")
            try! WorkloadReplay(w).replayBase(on: store)
        }
        lock.lock(); templates[size] = path; lock.unlock()
        return path
    }

    /// A private copy of a template store.
    func copy(_ size: String) -> Store {
        let source = template(size)
        let path = freshPath("copy-\(size)")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: source + suffix) {
            try! FileManager.default.copyItem(atPath: source + suffix, toPath: path + suffix)
        }
        return try! Store.open(at: path)
    }

    /// Replica B's edits (the first 3,000 ops of its large-workload stream) made against the
    /// large base: what a pull brings into a 10,000-article library.
    func mergeOps() -> [Op] {
        lock.lock()
        if let ops = mergeOpsCache { lock.unlock(); return ops }
        lock.unlock()
        var w = workload("large")
        w.streams["B"] = Array(w.streams["B"]!.prefix(3_000))
        let base = copy("large")
        let b = try! Store.create(at: freshPath("replica-b"), name: "B")
        try! b.merge(try! base.ops())
        let before = try! b.versionVector()
        _ = try! WorkloadReplay(w).replayStream("B", on: b)
        let ops = try! b.ops(since: before)
        lock.lock(); mergeOpsCache = ops; lock.unlock()
        return ops
    }
}

let opsPerSecond = BenchmarkMetric.custom("ops/s", polarity: .prefersLarger, useScalingFactor: false)
let megabytesPerSecond = BenchmarkMetric.custom("MB/s (uncompressed op bodies)", polarity: .prefersLarger, useScalingFactor: false)
let frameBytes = BenchmarkMetric.custom("frame bytes", polarity: .prefersSmaller, useScalingFactor: false)

/// Shared tolerance: this runs on shared 2-core machines, so only a clear regression counts.
var tolerance: BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 25.0, .p75: 35.0]) }

func config(
    _ metrics: [BenchmarkMetric], maxDuration: Duration = .seconds(5), maxIterations: Int = 1_000,
    warmup: Int = 1
) -> Benchmark.Configuration {
    .init(
        metrics: metrics, warmupIterations: warmup, maxDuration: maxDuration, maxIterations: maxIterations,
        thresholds: Dictionary(uniqueKeysWithValues: metrics.map { ($0, tolerance) }))
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let benchmarks: @Sendable () -> Void = {
    let fixtures = Fixtures.shared

    // MARK: local writes

    Benchmark(
        "Write: single title edit, 2,000-article store",
        configuration: config([.wallClock, .throughput, .peakMemoryResident], maxDuration: .seconds(5), maxIterations: 2_000)
    ) { (benchmark, input: (Store, [String])) in
        let (store, ids) = input
        for i in benchmark.scaledIterations {
            try store.editArticle(ids[(benchmark.currentIteration + i) % ids.count], [(ArticleFields.title, "عنوان \(benchmark.currentIteration)")])
        }
    } setup: {
        let store = fixtures.copy("medium")
        return (store, try store.listArticles().map(\.id))
    }

    Benchmark(
        "Write: bulk import of the medium base (2,000 articles)",
        configuration: config(
            [.wallClock, opsPerSecond, .peakMemoryResident, .mallocCountTotal],
            maxDuration: .seconds(20), maxIterations: 5, warmup: 0)
    ) { benchmark in
        let records = WorkloadReplay(fixtures.workload("medium")).libraryRecords().enumerated().map { (line: $0.offset + 1, record: $0.element) }
        let store = try Store.create(at: fixtures.freshPath("import"))
        benchmark.startMeasurement()
        var ops = 0
        let s = try seconds { ops = try store.importLibrary(records).ops }
        benchmark.stopMeasurement()
        benchmark.measurement(opsPerSecond, Int(Double(ops) / s))
    }

    // MARK: changeset codec

    Benchmark(
        "Changeset: encode the medium base (one frame)",
        configuration: config([.wallClock, opsPerSecond, megabytesPerSecond, frameBytes], maxDuration: .seconds(5), maxIterations: 50)
    ) { benchmark, ops in
        let raw = ops.reduce(0) { $0 + OpCodec.encodeBody($1).count }
        benchmark.startMeasurement()
        var bytes: [UInt8] = []
        let s = try seconds { bytes = try Changeset.encode(ops) }
        benchmark.stopMeasurement()
        blackHole(bytes)
        benchmark.measurement(opsPerSecond, Int(Double(ops.count) / s))
        benchmark.measurement(megabytesPerSecond, Int(Double(raw) / s / 1e6))
        benchmark.measurement(frameBytes, bytes.count)
    } setup: {
        try fixtures.copy("medium").ops()
    }

    Benchmark(
        "Changeset: decode the medium base (one frame, verified)",
        configuration: config([.wallClock, opsPerSecond, megabytesPerSecond], maxDuration: .seconds(5), maxIterations: 50)
    ) { (benchmark, input: ([UInt8], Int, Int)) in
        let (bytes, raw, count) = input
        benchmark.startMeasurement()
        var frames: [Changeset] = []
        let s = try seconds { frames = try Changeset.decodeAll(bytes) }
        benchmark.stopMeasurement()
        blackHole(frames)
        benchmark.measurement(opsPerSecond, Int(Double(count) / s))
        benchmark.measurement(megabytesPerSecond, Int(Double(raw) / s / 1e6))
    } setup: {
        let ops = try fixtures.copy("medium").ops()
        return (try Changeset.encode(ops), ops.reduce(0) { $0 + OpCodec.encodeBody($1).count }, ops.count)
    }

    // MARK: merge

    Benchmark(
        "Merge: 3,000 remote ops into a 10,000-article store",
        configuration: config([.wallClock, opsPerSecond, .peakMemoryResident], maxDuration: .seconds(30), maxIterations: 5, warmup: 0)
    ) { benchmark, ops in
        let store = fixtures.copy("large")
        benchmark.startMeasurement()
        let s = try seconds { try store.merge(ops) }
        benchmark.stopMeasurement()
        benchmark.measurement(opsPerSecond, Int(Double(ops.count) / s))
    } setup: {
        fixtures.mergeOps()
    }

    // MARK: search

    Benchmark(
        "Search: Arabic query on 10,000 articles",
        configuration: config([.wallClock, .throughput], maxDuration: .seconds(5), maxIterations: 500)
    ) { benchmark, store in
        let queries = ["غزة", "الحكومة", "مستشفى", "الأمم المتحدة", "المساعدات الإنسانية"]
        for i in benchmark.scaledIterations {
            blackHole(try store.search(queries[(benchmark.currentIteration + i) % queries.count]))
        }
    } setup: {
        fixtures.copy("large")
    }
}
