import BenchKit
import Foundation
import SyncModel
import SyncStore
import SyncWire

/// `articlesync-bench opcount …`: the import and merge paths alone, in one process each, small
/// enough to run under `valgrind --tool=callgrind`, whose instruction counts are repeatable on a
/// shared machine where wall times are not. `scripts/bench/opcount.sh` runs each mode at two
/// sizes and divides the difference in instructions by the difference in ops, which cancels
/// process start-up and store creation: instructions per imported op and per merged op.
///
///     articlesync-bench opcount prepare --workload W.json --articles N --out F.ascs
///         imports the first N articles of W's base and replays stream A on a scratch store, then
///         writes all its ops as a changeset file (not measured)
///     articlesync-bench opcount import --workload W.json --articles N
///         a fresh store imports the first N articles of the base (`Store.importLibrary`)
///     articlesync-bench opcount merge --changeset F.ascs
///         a fresh store merges the file (`Store.applyChangesets`, what a pull does per page)
///     articlesync-bench opcount replay --workload W.json --articles N --ops K
///         a fresh store imports the first N articles, then replays the first K ops of stream A
///         through the Store API, one local command (one transaction) each, as a reporter would
///
/// Each prints one line: `<mode> ops=<n>`.
enum OpCount {
    static func run(_ arguments: [String]) throws {
        var it = arguments.makeIterator()
        guard let mode = it.next() else { throw BenchError("opcount needs a mode: prepare, import, merge or replay") }
        var options: [String: String] = [:]
        while let name = it.next() {
            guard name.hasPrefix("--"), let value = it.next() else { throw BenchError("opcount: \(name) needs a value") }
            options[String(name.dropFirst(2))] = value
        }
        func option(_ name: String) throws -> String {
            guard let value = options[name] else { throw BenchError("opcount \(mode) needs --\(name)") }
            return value
        }
        let scratch = NSTemporaryDirectory() + "articlesync-opcount-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let clock = WorkloadClock()
        func freshStore(_ name: String) throws -> Store {
            try Store.create(
                at: scratch + "/\(name).sqlite", name: name, replica: Deterministic.replica(name), now: clock.now,
                identifiers: SeededIdentifiers(seed: "opcount-\(name)").make)
        }
        switch mode {
        case "prepare":
            let replay = try replay(try option("workload"), articles: try option("articles"), clock: clock)
            let store = try freshStore("A")
            try replay.replayBase(on: store)
            _ = try replay.replayStream("A", on: store)
            let file = try store.exportChangesets()
            try Data(file.bytes).write(to: URL(fileURLWithPath: try option("out")))
            print("prepare ops=\(file.ops) frames=\(file.frames)")
        case "import":
            let replay = try replay(try option("workload"), articles: try option("articles"), clock: clock)
            let report = try replay.replayBase(on: try freshStore("A"))
            print("import ops=\(report.ops)")
        case "replay":
            guard let limit = Int(try option("ops")), limit > 0 else { throw BenchError("--ops must be a positive number") }
            let replay = try replay(try option("workload"), articles: try option("articles"), clock: clock, streamOps: limit)
            let store = try freshStore("A")
            try replay.replayBase(on: store)
            let report = try replay.replayStream("A", on: store)
            print("replay ops=\(report.totalApplied + report.skipped.values.reduce(0, +))")
        case "merge":
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try option("changeset"))))
            clock.set(UInt64(Date().timeIntervalSince1970 * 1000))
            let report = try freshStore("B").applyChangesets(bytes)
            print("merge ops=\(report.applied)")
        default:
            throw BenchError("opcount mode must be prepare, import, merge or replay, not \(mode)")
        }
    }

    /// The workload with its base cut to the first `articles` articles (collections kept) and,
    /// with `streamOps`, stream A cut to its first `streamOps` ops.
    static func replay(_ path: String, articles: String, clock: WorkloadClock, streamOps: Int? = nil) throws -> WorkloadReplay {
        guard let limit = Int(articles), limit > 0 else { throw BenchError("--articles must be a positive number") }
        var workload = try Workload.load(from: URL(fileURLWithPath: path))
        var kept = 0
        workload.base = workload.base.filter { op in
            guard op.op == "article.create" else { return true }
            kept += 1
            return kept <= limit
        }
        if let streamOps { workload.streams["A"] = Array((workload.streams["A"] ?? []).prefix(streamOps)) }
        let replay = WorkloadReplay(workload)
        replay.clock = clock
        return replay
    }
}
