import Foundation
import GRDB
public import SyncModel
import SyncWire

/// What a merge did.
public struct MergeReport: Sendable, Equatable {
    public init() {}
    public var received = 0
    public var applied = 0
    public var duplicates: Int { received - applied }
    /// How far (ms) the furthest op was stamped ahead of this laptop's clock, when that is past
    /// ``Store/maxClockSkewMillis`` and the merge took it anyway (ops a sync server accepted);
    /// 0 otherwise.
    public var aheadOfClockMillis: UInt64 = 0
}

extension Store {
    /// Applies remote ops: idempotent (ops already held are ignored), order-independent (any
    /// order, duplication or batching gives the same state), in transactions of at most
    /// `batchSize` ops so a big merge never holds the writer for long. Ops stamped more than
    /// ``maxClockSkewMillis`` beyond our clock are refused before anything is applied — unless
    /// `acceptingFuture`: ops a sync server accepted were bounded by the server's clock, so when
    /// they are ahead of ours it is our clock that is behind. They are applied, our clock follows
    /// them (our next ops are stamped after them, which the server accepts) and the report says
    /// by how much (``MergeReport/aheadOfClockMillis``), so that being behind never blocks a pull
    /// or our own push.
    ///
    /// `updatingSyncState` changes the ``SyncState`` inside the last batch's transaction (a pull
    /// advances its cursor atomically with the page it applied).
    @discardableResult
    public func merge(
        _ ops: [Op], batchSize: Int = 5_000, acceptingFuture: Bool = false,
        updatingSyncState: (@Sendable (inout SyncState) throws -> Void)? = nil
    ) throws -> MergeReport {
        var report = MergeReport()
        if acceptingFuture {
            let clock = now()
            if let furthest = ops.map(\.hlc.millis).max(), furthest > clock + maxClockSkewMillis {
                report.aheadOfClockMillis = furthest - clock
            }
        } else {
            try checkClockSkew(ops)
        }
        report.received = ops.count
        let batches =
            ops.isEmpty
            ? [[]]
            : stride(from: 0, to: ops.count, by: batchSize).map {
                Array(ops[$0..<min($0 + batchSize, ops.count)])
            }
        for (index, batch) in batches.enumerated() {
            let last = index == batches.count - 1
            report.applied += try write { db in
                var materializer = Materializer(db)
                var hlc = try Clock.load(db)
                var applied = 0
                for op in batch where try materializer.record(op) {
                    applied += 1
                    hlc = HLC.receive(last: hlc, remote: op.hlc)
                }
                try materializer.finish()
                try Clock.save(hlc, db)
                if last, let updatingSyncState {
                    var state = try SyncState.load(db)
                    try updatingSyncState(&state)
                    try state.save(db)
                }
                return applied
            }
        }
        return report
    }

    func checkClockSkew(_ ops: [Op]) throws {
        let limit = now() + maxClockSkewMillis
        if let bad = ops.first(where: { $0.hlc.millis > limit }) {
            let ahead = (bad.hlc.millis - now()) / 1000
            throw StoreError(
                .futureTimestamp,
                """
                op \(bad.id) is stamped \(ahead) s in the future of this laptop's clock (limit \(maxClockSkewMillis / 1000) s): \
                this laptop's clock is behind, or the clock of replica \(bad.id.replica.short) is ahead \
                (a sync server refuses ops ahead of its own clock, so check this laptop's clock first); nothing was applied
                """)
        }
    }

    /// What this store has seen, per replica.
    public func versionVector() throws -> VersionVector {
        try read { db in try OpLog.versionVector(in: db) }
    }

    /// Every op the holder of `since` may lack, grouped by replica in counter order.
    public func ops(since: VersionVector = VersionVector(), replica only: ReplicaID? = nil, limit: Int? = nil) throws -> [Op] {
        try read { db in
            var result: [Op] = []
            // One replica's ops (what push asks for) need no scan of the log for the replicas in it.
            let replicas =
                try only.map { [$0] }
                ?? Data.fetchAll(db, sql: "SELECT DISTINCT replica FROM ops ORDER BY replica").compactMap { ReplicaID(bytes: Array($0)) }
            for replica in replicas {
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT replica, counter, hlc, body FROM ops WHERE replica = ? AND counter > ? ORDER BY counter
                        """, arguments: [Data(replica.bytes), Int64(since[replica])])
                while let row = try rows.next() {
                    result.append(try OpLog.decode(row))
                    if let limit, result.count >= limit { return result }
                }
            }
            return result
        }
    }

    /// Re-derives all merge state and materialized tables from the op log alone.
    public func rebuild() throws {
        try write { db in try Self.rebuildDerived(db) }
    }

    /// ``rebuild()`` inside the caller's transaction (also used by a migration).
    static func rebuildDerived(_ db: Database) throws {
        try SearchIndex.suspend(db)  // rebuilt once below, not article by article
        for table in Schema.derivedTables { try db.execute(sql: "DELETE FROM \(table)") }
        var materializer = Materializer(db)
        let rows = try Row.fetchCursor(db, sql: "SELECT replica, counter, hlc, body FROM ops ORDER BY replica, counter")
        while let row = try rows.next() {
            try materializer.apply(try OpLog.decode(row))
        }
        try materializer.finish()
        try SearchIndex.rebuild(db)
    }
}
