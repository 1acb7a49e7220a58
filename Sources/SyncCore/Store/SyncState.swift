import GRDB
import SyncModel
import SyncWire

/// What a store remembers about its sync server: where it is, how far this laptop has read the
/// server's log, what the server holds of this laptop's ops, and how the last attempt went.
///
/// It lives in the store (one row, `sync_state`) so that a pulled page and the cursor that covers
/// it, or a new epoch and the resets it implies, change in the same transaction. The sync client
/// (`SyncClientKit`) decides what the values mean; the store only keeps them.
///
/// ```swift
/// var state = try store.syncState()
/// try store.updateSyncState { $0.lastError = nil; $0.lastSuccessAt = now }
/// try store.merge(page, updatingSyncState: { $0.cursor = next })   // atomically with the page
/// ```
public struct SyncState: Sendable, Equatable {
    /// The server this store syncs with.
    public struct Remote: Sendable, Equatable {
        public var url: String
        public var library: String
        /// Plain `http://` to a non-loopback host was allowed explicitly.
        public var insecure: Bool

        public init(url: String, library: String, insecure: Bool = false) {
            self.url = url; self.library = library; self.insecure = insecure
        }
    }

    public var remote: Remote?
    /// The server sequence number of the last frame applied (0: nothing pulled yet).
    public var cursor: Int64 = 0
    /// The server epoch `cursor` and `acked` refer to (nil: never talked to the server).
    public var epoch: String?
    /// The highest of this replica's counters the server holds (every op 1…acked).
    public var acked: UInt64 = 0
    /// Wall-clock milliseconds of the last acknowledgement, the last complete sync, the last error.
    public var ackedAt: UInt64?
    public var lastSuccessAt: UInt64?
    public var lastErrorAt: UInt64?
    /// The last failure in plain words (nil after a sync that succeeded).
    public var lastError: String?

    public init() {}

    /// Forgets everything the server told us: after a change of server or library, or of epoch
    /// (a server restored from a backup), no cursor or ack of the old one can be trusted.
    public mutating func forgetServer(newEpoch: String? = nil) {
        cursor = 0
        acked = 0
        epoch = newEpoch
    }
}

extension SyncState {
    static func load(_ db: Database) throws -> SyncState {
        var state = SyncState()
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM sync_state WHERE id = 1")) else {
            return state
        }
        if let url: String = row["remote_url"], let library: String = row["remote_library"] {
            state.remote = Remote(url: url, library: library, insecure: row["remote_insecure"])
        }
        state.cursor = row["cursor"]
        state.epoch = row["epoch"]
        state.acked = UInt64(row["acked"] as Int64)
        state.ackedAt = (row["acked_at"] as Int64?).map(UInt64.init)
        state.lastSuccessAt = (row["last_success_at"] as Int64?).map(UInt64.init)
        state.lastErrorAt = (row["last_error_at"] as Int64?).map(UInt64.init)
        state.lastError = row["last_error"]
        return state
    }

    func save(_ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO sync_state (id, remote_url, remote_library, remote_insecure, cursor, epoch, acked,
                                                   acked_at, last_success_at, last_error_at, last_error)
                VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            remote?.url, remote?.library, remote?.insecure ?? false, cursor, epoch, Int64(acked),
            ackedAt.map(Int64.init), lastSuccessAt.map(Int64.init), lastErrorAt.map(Int64.init), lastError,
        ])
    }
}

extension Store {
    /// The sync state as last committed.
    public func syncState() throws -> SyncState {
        try read { db in try SyncState.load(db) }
    }

    /// Changes the sync state in one transaction; returns the state as committed.
    @discardableResult
    public func updateSyncState(_ change: @Sendable (inout SyncState) throws -> Void) throws -> SyncState {
        try write { db in
            var state = try SyncState.load(db)
            try change(&state)
            try state.save(db)
            return state
        }
    }
}
