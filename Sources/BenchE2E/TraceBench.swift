import BenchKit
import Foundation
import SyncModel
import SyncWire

// articlesync-bench trace FILE: replays an editing trace (josephg/editing-traces format,
// sequential or concurrent) through the text CRDT in memory and prints one JSON object.
// See BENCHMARKS.md, "Text: editing traces".
//
//   swift build -c release --product articlesync-bench
//   .build/release/articlesync-bench trace Tests/Fixtures/traces/automerge-paper.json.gz
//
// Options: --repeats N (5; times are medians), --store-every N (see TraceStoreBench), --json-out FILE
//
// Figures: `replay_ms` every patch as a local edit of its agent (concurrent traces: agents also
// merge what their next transaction was typed on, and everything at the end); `apply_ms` every
// keystroke's edit applied on a fresh replica; the history as our changeset frames, one op per
// typed run (what a store would send a new laptop) — `history_bytes_raw` before and
// `history_bytes_zlib` after the frames' zlib, `keystroke_ops_bytes_zlib` with one op per
// keystroke instead; `load_history_ms` a fresh replica decoding those frames and applying them;
// `state_bytes` / `load_state_ms` the canonical text state a store keeps, and decoding it.

struct TraceBenchOptions {
    var file: String
    var repeats = 5
    var jsonOut: String?
    /// Sequential traces: also type the trace into a store, saving every N patches (0: skip).
    var storeEvery = 100

    init(_ args: ArraySlice<String>) throws {
        var it = args.makeIterator()
        var file: String?
        func value(_ name: String) throws -> String {
            guard let v = it.next() else { throw BenchError("\(name) needs a value") }
            return v
        }
        while let arg = it.next() {
            switch arg {
            case "--repeats": repeats = max(1, Int(try value(arg)) ?? repeats)
            case "--json-out": jsonOut = try value(arg)
            case "--store-every": storeEvery = max(0, Int(try value(arg)) ?? storeEvery)
            case "-h", "--help":
                print("usage: articlesync-bench trace FILE [--repeats N] [--store-every N (100; 0 skips the store run)] [--json-out FILE]")
                exit(0)
            default:
                guard file == nil, !arg.hasPrefix("-") else { throw BenchError("unexpected argument \(arg)") }
                file = arg
            }
        }
        guard let file else { throw BenchError("trace needs a trace file (e.g. Tests/Fixtures/traces/automerge-paper.json.gz)") }
        self.file = file
    }
}

enum TraceBench {
    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    static func millis(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    /// Our changeset frames carrying `edits` as ops of the article `trace` (frames of at most
    /// 10,000 ops, per replica). Returns the frames and their payload bytes before zlib.
    static func frames(_ edits: [TextEdit], fallback: ReplicaID) throws -> (frames: [[UInt8]], raw: Int) {
        var byReplica: [ReplicaID: [TextEdit]] = [:]
        var order: [ReplicaID] = []
        for edit in edits {
            let replica: ReplicaID
            switch edit {
            case .insert(let i): replica = i.id.replica
            case .delete(let d): replica = d.ranges.first?.replica ?? fallback
            }
            if byReplica[replica] == nil { order.append(replica) }
            byReplica[replica, default: []].append(edit)
        }
        var frames: [[UInt8]] = []
        var raw = 0
        for replica in order {
            let ops = byReplica[replica]!.enumerated().map { k, edit in
                Op(
                    id: OpID(replica: replica, counter: UInt64(k + 1)), hlc: HLC(millis: 1_800_000_000_000 + UInt64(k), counter: 0),
                    body: .text(.article("trace"), field: "body", edit))
            }
            var start = 0
            while start < ops.count {
                let slice = Array(ops[start..<min(start + 10_000, ops.count)])
                let frame = try Changeset.encode(slice)
                raw += Int(try Changeset.inspectHeader(frame).uncompressedLength)
                frames.append(frame)
                start += slice.count
            }
        }
        return (frames, raw)
    }

    static func run(_ options: TraceBenchOptions) throws {
        let trace = try EditingTrace.load(options.file)
        let clock = ContinuousClock()
        var replayTimes: [Double] = []
        var replay: EditingTrace.Replay?
        for _ in 0..<options.repeats {
            var result: EditingTrace.Replay?
            replayTimes.append(millis(clock.measure { result = trace.replay() }))
            replay = result
        }
        let done = replay!
        let final = done.texts[0]
        let matched = done.texts.allSatisfy { $0.text == trace.endContent }

        var applyTimes: [Double] = []
        for _ in 0..<options.repeats {
            applyTimes.append(
                millis(
                    clock.measure {
                        var fresh = TextSequence()
                        for edit in done.edits { fresh.apply(edit) }
                        precondition(fresh.count == final.count)
                    }))
        }

        let history = final.historyEdits
        let (historyFrames, historyRaw) = try frames(history, fallback: EditingTrace.replica(0))
        let historyBytes = historyFrames.reduce(0) { $0 + $1.count }
        let (keystrokeFrames, keystrokeRaw) = try frames(done.edits, fallback: EditingTrace.replica(0))
        let keystrokeBytes = keystrokeFrames.reduce(0) { $0 + $1.count }

        // Loading is decoding the frames and applying their ops; the check that the result is the
        // trace's text runs after the clock stops.
        var loadTimes: [Double] = []
        var loaded = TextSequence()
        for _ in 0..<options.repeats {
            loadTimes.append(
                millis(
                    try clock.measure {
                        var fresh = TextSequence()
                        for frame in historyFrames {
                            for op in try Changeset.decode(frame, limits: .default).ops {
                                if case .text(_, _, let edit) = op.body { fresh.apply(edit) }
                            }
                        }
                        loaded = fresh
                    }))
        }
        let loadedMatches = loaded.text == final.text && loaded.pendingCount == 0

        let state = TextStateCodec.encode(final)
        var stateTimes: [Double] = []
        for _ in 0..<options.repeats {
            stateTimes.append(
                millis(
                    try clock.measure {
                        let loaded = try TextStateCodec.decode(state)
                        precondition(loaded.count == final.count)
                    }))
        }

        let stored = try TraceStoreBench.run(trace, every: options.storeEvery)
        var result: [String: Any] = [
            "trace": (options.file as NSString).lastPathComponent,
            "concurrent": trace.isConcurrent,
            "agents": trace.agents,
            "patches": trace.patchCount,
            "final_length": final.count,
            "matched_end_content": matched,
            "runs": final.spans.count,
            "replay_ms": median(replayTimes),
            "apply_ms": median(applyTimes),
            "history_ops": history.count,
            "history_bytes_raw": historyRaw,
            "history_bytes_zlib": historyBytes,
            "keystroke_ops_bytes_raw": keystrokeRaw,
            "keystroke_ops_bytes_zlib": keystrokeBytes,
            "load_history_ms": median(loadTimes),
            "load_history_matched": loadedMatches,
            "state_bytes": state.count,
            "state_bytes_zlib": Zlib.deflate(state).count,
            "load_state_ms": median(stateTimes),
            "repeats": options.repeats,
        ]
        result.merge(stored) { a, _ in a }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: json, as: UTF8.self))
        if let out = options.jsonOut { try json.write(to: URL(fileURLWithPath: out)) }
        if !matched || !loadedMatches || stored["store_matched_end_content"] as? Bool == false {
            throw BenchError("the replay did not reach the trace's endContent")
        }
    }
}
