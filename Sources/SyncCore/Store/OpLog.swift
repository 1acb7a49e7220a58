import Foundation
import GRDB
import SyncModel
import SyncWire

/// Reads of the op log.
enum OpLog {
    static func decode(_ row: Row) throws -> Op {
        let replica = ReplicaID(bytes: Array(row["replica"] as Data))!
        return Op(
            id: OpID(replica: replica, counter: UInt64(row["counter"] as Int64)),
            hlc: HLC(raw: UInt64(bitPattern: row["hlc"] as Int64)),
            decoded: try OpCodec.decodeBody(Array(row["body"] as Data)))
    }

    static func op(_ id: OpID, in db: Database) throws -> Op? {
        try Row.fetchOne(
            db, sql: "SELECT replica, counter, hlc, body FROM ops WHERE replica = ? AND counter = ?",
            arguments: [Data(id.replica.bytes), Int64(id.counter)]
        ).map(decode)
    }

    /// The ops filed under an article that count as work on it (rule 3), whatever their kind.
    static func work(onArticle id: String, in db: Database) throws -> [OpID] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT replica, counter FROM ops WHERE article = ? AND work = 1"),
            arguments: [id]
        ).map {
            OpID(replica: ReplicaID(bytes: Array($0["replica"] as Data))!, counter: UInt64($0["counter"] as Int64))
        }
    }

    static func versionVector(in db: Database) throws -> VersionVector {
        var counters: [ReplicaID: UInt64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT replica, contiguous FROM replicas") {
            counters[ReplicaID(bytes: Array(row["replica"] as Data))!] = UInt64(row["contiguous"] as Int64)
        }
        return VersionVector(counters)
    }
}
