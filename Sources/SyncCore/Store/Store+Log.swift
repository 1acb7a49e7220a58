import Foundation
import GRDB
import SyncModel
import SyncWire

/// One line of history.
public struct LogEntry: Sendable, Equatable, Codable {
    public var op: String
    public var replica: String
    public var counter: UInt64
    public var time: String
    public var hlc: String
    public var change: String
}

extension Store {
    /// Who changed what, when and from which replica: newest first, for one article (with its
    /// annotations) or the whole library.
    public func log(article: String? = nil, limit: Int = 100) throws -> [LogEntry] {
        try read { db in
            let rows: [Row]
            if let article {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT replica, counter, hlc, body FROM ops WHERE article = ? ORDER BY hlc DESC, replica, counter LIMIT ?
                        """, arguments: [article, limit])
            } else {
                rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT replica, counter, hlc, body FROM ops ORDER BY hlc DESC, replica, counter LIMIT ?
                        """, arguments: [limit])
            }
            return try rows.map { row in
                let op = try OpLog.decode(row)
                return LogEntry(
                    op: op.id.description, replica: op.id.replica.description, counter: op.id.counter,
                    time: TimeFormat.iso(op.hlc.millis), hlc: op.hlc.description,
                    change: OpDescription.describe(op.body))
            }
        }
    }

    /// How many ops this replica has made (its highest counter); the server acknowledges a prefix
    /// of them (``SyncState/acked``).
    public func ownOpCount() throws -> UInt64 { try versionVector()[replica] }
}
