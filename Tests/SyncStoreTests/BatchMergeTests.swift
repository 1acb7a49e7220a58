import Foundation
import GRDB
import SyncWire
import TestHarness
import Testing

@testable import SyncModel
@testable import SyncStore

// The set-at-a-time merge (MergeCache, OpLogAppend, bodies kept as they arrived) against the
// slowest path it replaces: the same ops merged one op per call. Random schedules from the
// convergence tests supply the ops; each is delivered to fresh stores as one shuffled batch with
// duplicates, one op at a time in another order, and as decoded changeset frames (whose ops carry
// their encoded bodies). All must end with the same canonical dump and byte-identical op logs.

@Suite struct BatchMergeTests {
    /// Every op a random schedule's first replica ends with.
    static func scheduleOps(seed: UInt64) throws -> [Op] {
        var schedule = Schedule(seed: seed)
        defer { try? FileManager.default.removeItem(at: schedule.directory) }
        try schedule.setUp()
        try schedule.prologue()
        for _ in 0..<schedule.rng.int(8...16) { try schedule.step() }
        try schedule.exchangeEverything()
        return try schedule.stores[0].ops()
    }

    static func opLog(_ store: Store) throws -> [String] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT replica, counter, hlc, article, work, body FROM ops ORDER BY replica, counter")
                .map { "\($0)" }
        }
    }

    @Test(arguments: 0..<6)
    func `one batch, one op per call and decoded frames give identical stores`(chunk: Int) throws {
        for seed in (0..<UInt64(4)).map({ 0xBA7C_0000 + UInt64(chunk) * 4 + $0 }) {
            let ops = try Self.scheduleOps(seed: seed)
            var rng = SeededRandom(seed: seed)
            var batch = ops + ops.filter { _ in rng.chance(0.2) }
            batch.shuffle(using: &rng)

            let together = try temporaryStore(name: "together")
            try together.merge(batch)

            let single = try temporaryStore(name: "single")
            for op in ops.shuffled(using: &rng) { try single.merge([op]) }

            let framed = try temporaryStore(name: "framed")
            // Frames of both formats: a format-2 frame carries the op-log bytes the store keeps, a
            // format-3 one is re-encoded to them; the op rows must be the same either way.
            let frames = try Store.contiguousRuns(ops, maxLength: 7).enumerated().map { i, run in
                try Changeset.encode(run, format: i.isMultiple(of: 2) ? 2 : 3)
            }
            let read = try frames.map { try Changeset.decode($0) }
            let decoded = read.map(\.ops)
            #expect(read.filter { $0.format == 2 }.flatMap(\.ops).allSatisfy { $0.encodedBody != nil })
            for ops in decoded.shuffled(using: &rng) { try framed.merge(ops, batchSize: rng.pick([3, 5_000])!) }

            let reference = try single.canonicalDump()
            for (name, store) in [("one batch", together), ("decoded frames", framed)] {
                let dump = try store.canonicalDump()
                #expect(dump == reference, "seed \(seed), \(name) vs one op per call:\n\(firstDifference(reference, dump))")
                #expect(try Self.opLog(store) == Self.opLog(single), "seed \(seed): \(name) stored different op rows")
                #expect(
                    try store.versionVector().counters.filter { $0.value > 0 } == single.versionVector().counters.filter { $0.value > 0 },
                    "seed \(seed): \(name)")
            }
            try together.rebuild()
            #expect(try together.canonicalDump() == reference, "seed \(seed): rebuild after a batched merge differs")
        }
    }
}
