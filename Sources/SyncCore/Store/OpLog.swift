import Foundation
import GRDB
public import SyncModel
import SyncWire

/// Reads of the op log.
enum OpLog {
    static func decode(_ row: Row) throws -> Op {
        let replica = ReplicaID(bytes: Array(row["replica"] as Data))!
        let bytes = Array(row["body"] as Data)
        let (body, context) = try OpCodec.decodeBody(bytes)
        return Op(id: OpID(replica: replica, counter: UInt64(row["counter"] as Int64)),
                  hlc: HLC(raw: UInt64(bitPattern: row["hlc"] as Int64)), body: body, context: context)
    }

    static func op(_ id: OpID, in db: Database) throws -> Op? {
        try Row.fetchOne(db, sql: "SELECT replica, counter, hlc, body FROM ops WHERE replica = ? AND counter = ?",
                         arguments: [Data(id.replica.bytes), Int64(id.counter)]).map(decode)
    }

    static func ops(forArticle id: String, in db: Database) throws -> [Op] {
        try Row.fetchAll(db, sql: "SELECT replica, counter, hlc, body FROM ops WHERE article = ?", arguments: [id]).map(decode)
    }

    static func versionVector(in db: Database) throws -> VersionVector {
        var counters: [ReplicaID: UInt64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT replica, contiguous FROM replicas") {
            counters[ReplicaID(bytes: Array(row["replica"] as Data))!] = UInt64(row["contiguous"] as Int64)
        }
        return VersionVector(counters)
    }
}
