import Foundation
import GRDB
import SyncModel
import SyncWire

/// Appends one transaction's ops to the op log with a few statements instead of one per op.
///
/// Whether an op is already held is answered from memory: a replica's contiguous counter says
/// every counter up to it is in the log (ops are never deleted), and the few counters held beyond
/// it are read in one range query the first time the batch meets the replica. New ops are queued
/// and written by ``flush(_:)`` with multi-row `INSERT`s, their bodies as they arrived when the
/// frame carried them in the log's encoding (``Op/encodedBody``). ``advance(_:)`` then moves each
/// replica's contiguous counter with no further read.
///
/// ```swift
/// var log = OpLogAppend()
/// if try !log.holds(op.id, in: db) { log.append(op) }
/// try log.flush(db)     // before anything reads the ops table
/// try log.advance(db)   // the version vector
/// ```
struct OpLogAppend {
    /// What the log holds of one replica: every counter up to `contiguous`, and `beyond`.
    private struct Held {
        var contiguous: UInt64
        var beyond: Set<UInt64>
    }

    private var held: [ReplicaID: Held] = [:]
    private var pending: [Op] = []
    /// Replicas with an op appended: their row in `replicas` is written (created if need be).
    private var grown: Set<ReplicaID> = []
    /// Rows per `INSERT` (six parameters each, well under SQLite's limit of 32,766).
    static let rowsPerInsert = 200

    /// Whether the log (or this batch) already holds `id`.
    mutating func holds(_ id: OpID, in db: Database) throws -> Bool {
        let replica = try load(id.replica, in: db)
        return id.counter <= replica.contiguous || replica.beyond.contains(id.counter)
    }

    /// Queues `op` for the log; the caller has checked with ``holds(_:in:)`` that it is new.
    mutating func append(_ op: Op) {
        held[op.id.replica]?.beyond.insert(op.id.counter)
        pending.append(op)
        grown.insert(op.id.replica)
    }

    private mutating func load(_ replica: ReplicaID, in db: Database) throws -> Held {
        if let known = held[replica] { return known }
        let key = Data(replica.bytes)
        let contiguous =
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT contiguous FROM replicas WHERE replica = ?"), arguments: [key]) ?? 0
        let beyond = try Int64.fetchSet(
            db.cachedStatement(sql: "SELECT counter FROM ops WHERE replica = ? AND counter > ?"), arguments: [key, contiguous])
        let known = Held(contiguous: UInt64(contiguous), beyond: Set(beyond.map { UInt64($0) }))
        held[replica] = known
        return known
    }

    /// Writes the queued ops.
    mutating func flush(_ db: Database) throws {
        var start = 0
        while start < pending.count {
            let rows = pending[start..<min(start + Self.rowsPerInsert, pending.count)]
            let placeholders = repeatElement("(?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", ")
            var arguments: [(any DatabaseValueConvertible)?] = []
            arguments.reserveCapacity(rows.count * 6)
            for op in rows {
                arguments.append(Data(op.id.replica.bytes))
                arguments.append(Int64(op.id.counter))
                arguments.append(Int64(bitPattern: op.hlc.raw))
                arguments.append(op.entity.articleID)
                arguments.append(op.countsAsWork)
                arguments.append(op.encodedBody.map { Data($0) } ?? Data(OpCodec.encodeBody(op)))
            }
            try db.cachedStatement(sql: "INSERT INTO ops(replica, counter, hlc, article, work, body) VALUES \(placeholders)")
                .execute(arguments: StatementArguments(arguments))
            start += rows.count
        }
        pending = []
    }

    /// Moves the contiguous counter of every replica the batch appended ops of past the counters
    /// now held, and forgets what it knew (the tables are the truth again).
    mutating func advance(_ db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO replicas(replica, contiguous) VALUES (?, ?)
                ON CONFLICT(replica) DO UPDATE SET contiguous = excluded.contiguous
                """)
        for replica in grown.sorted() {
            guard let known = held[replica] else { continue }
            var contiguous = known.contiguous
            while known.beyond.contains(contiguous + 1) { contiguous += 1 }
            try upsert.execute(arguments: [Data(replica.bytes), Int64(contiguous)])
        }
        held = [:]
        grown = []
    }
}
