import Foundation
import GRDB
public import ServerStorage
import ServiceLifecycle
import SyncFailpoints
import SyncModel
import SyncWire

/// The embedded ``ServerStore``: one SQLite database, `<data>/server.sqlite`, in WAL mode, with
/// the writer at `synchronous=FULL` so that a 2xx push survives a power cut. Admin commands open
/// the same file from another process while the server runs; nothing is cached, so a revocation
/// is seen by the next request. SQLite's single writer serialises pushes, which is what keeps
/// each library's sequence gap-free and in commit order.
///
/// ```swift
/// let store = try SQLiteServerStore.open(dataDirectory: dir, create: true)
/// try await store.createLibrary("newsroom")
/// ```
public final class SQLiteServerStore: ServerStore {
    let pool: DatabasePool
    /// The database file.
    public let path: String

    public static let fileName = "server.sqlite"

    init(pool: DatabasePool, path: String) {
        self.pool = pool
        self.path = path
    }

    /// Opens (and with `create`, creates) the data directory's database, runs migrations and
    /// makes sure an epoch exists.
    public static func open(dataDirectory: String, create: Bool = true) throws(ServerStoreError) -> SQLiteServerStore {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if !fm.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard create else {
                throw ServerStoreError(
                    .notFound, "no data directory at \(dataDirectory): run `syncserver library create NAME --data \(dataDirectory)` first")
            }
            do {
                try fm.createDirectory(
                    atPath: dataDirectory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw ServerStoreError(.unavailable, "cannot create the data directory \(dataDirectory): \(error.localizedDescription)")
            }
        } else if !isDirectory.boolValue {
            throw ServerStoreError(.failed, "\(dataDirectory) is not a directory")
        }
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        if !create, !fm.fileExists(atPath: path) {
            throw ServerStoreError(.notFound, "no server database at \(path): run `syncserver library create NAME --data \(dataDirectory)` first")
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.label = "syncserver"
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            // GRDB's pool sets the writer to NORMAL when it enables WAL; a 2xx push must survive a
            // power cut, so the writer goes back to FULL after opening (it sticks: see the test).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try ServerSchema.migrator.migrate(pool)
            try pool.write { db in
                if try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") == nil {
                    try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('epoch', ?)", arguments: [randomHex(16)])
                }
            }
            return SQLiteServerStore(pool: pool, path: path)
        } catch let error as DatabaseError {
            throw mapped(error)
        } catch {
            throw ServerStoreError(.unavailable, "cannot open \(path): \(error)")
        }
    }

    /// Runs until graceful shutdown, then closes the database (the HTTP server, started after
    /// it, has stopped by then: a ServiceGroup shuts services down in reverse order).
    public func run() async throws {
        try? await gracefulShutdown()
        try close()
    }

    /// Closes every connection (admin commands, which do not run the service).
    public func close() throws {
        do { try pool.close() } catch let error as DatabaseError { throw Self.mapped(error) }
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL).
    public func writerSynchronous() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    // MARK: Requests

    public func lookup(tokenHash: String?) async throws -> (epoch: String, device: Device?) {
        try await read { db in
            let epoch = try Self.epoch(db)
            guard let tokenHash else { return (epoch, nil) }
            let row = try Row.fetchOne(db, sql: "SELECT * FROM devices WHERE token_hash = ?", arguments: [tokenHash])
            return (epoch, row.map(Self.device))
        }
    }

    public func push(_ request: PushRequest, decide: @Sendable (PushState) -> PushDecision) async throws -> PushResult {
        let replica = request.changeset.replica.description
        // The stored ops a replay or an overlap must match, decoded before the write transaction
        // so that a big replay does not hold the single writer: stored frames never change, and
        // the write transaction reads only what was acked in between.
        let early = try await read { db in
            let acked = try Self.acked(db, library: request.library, replica: replica)
            return (acked, try Self.held(db, library: request.library, replica: replica, request.changeset, after: 0, upTo: acked))
        }
        let result = try await write { db -> PushResult in
            let device = try Row.fetchOne(db, sql: "SELECT * FROM devices WHERE id = ?", arguments: [request.deviceID])
                .map(Self.device)
            // Revoked devices included: a revoked device's replica stays bound to it. An active
            // owner comes first, should an old database hold two bindings of one replica.
            let owner = try Row.fetchOne(
                db,
                sql: """
                    SELECT id, revoked_at IS NOT NULL AS revoked FROM devices
                    WHERE library = ? AND replica = ? AND id <> ? ORDER BY revoked, created_at LIMIT 1
                    """, arguments: [request.library, replica, request.deviceID]
            ).map { ReplicaOwner(deviceID: $0["id"], revoked: $0["revoked"]) }
            let acked = try Self.acked(db, library: request.library, replica: replica)
            let head = try Int64.fetchOne(db, sql: "SELECT head FROM libraries WHERE name = ?", arguments: [request.library]) ?? 0
            let epoch = try Self.epoch(db)
            // (acked never decreases while the server runs; a restore is made with it stopped.)
            let held =
                try (acked >= early.0 ? early.1 : early.1.filter { Int64($0.id.counter) <= acked })
                + Self.held(db, library: request.library, replica: replica, request.changeset, after: early.0, upTo: acked)
            switch decide(PushState(device: device, replicaOwner: owner, acked: acked, head: head, epoch: epoch, held: held)) {
            case .refuse(let refusal):
                return .refused(refusal)
            case .replay:
                return .replay(acked: acked, head: head, epoch: epoch)
            case .append(let frame, let bind):
                if bind {
                    try db.execute(sql: "UPDATE devices SET replica = ? WHERE id = ?", arguments: [replica, request.deviceID])
                }
                let seq = head + 1
                try db.execute(
                    sql: """
                        INSERT INTO changesets (library, seq, replica, first, last, op_count, device, received_at, format, bytes)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        request.library, seq, replica, frame.first, frame.last, frame.opCount, request.deviceID,
                        Self.now(), frame.format, Data(frame.bytes),
                    ])
                try db.execute(
                    sql: """
                        INSERT INTO heads (library, replica, acked) VALUES (?, ?, ?)
                        ON CONFLICT (library, replica) DO UPDATE SET acked = excluded.acked
                        """, arguments: [request.library, replica, frame.last])
                try db.execute(
                    sql: """
                        UPDATE libraries SET head = ?, changesets = changesets + 1, ops = ops + ? WHERE name = ?
                        """, arguments: [seq, frame.opCount, request.library])
                Failpoint.hit("server.push.mid-apply")
                return .stored(acked: frame.last, seq: seq, epoch: epoch, opsStored: frame.opCount)
            }
        }
        if case .stored = result { Failpoint.hit("server.push.after-commit") }
        return result
    }

    static func acked(_ db: Database, library: String, replica: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT acked FROM heads WHERE library = ? AND replica = ?", arguments: [library, replica]) ?? 0
    }

    /// For ``PushState/held``: the stored ops of `replica` with counters in the frame's range,
    /// after `after` and up to `upTo` (acked), through the `changesets_replica` index.
    static func held(
        _ db: Database, library: String, replica: String, _ changeset: Changeset, after: Int64, upTo acked: Int64
    ) throws -> [Op] {
        let first = max(Int64(changeset.firstCounter), after + 1), last = min(Int64(changeset.lastCounter), acked)
        guard first <= last else { return [] }
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT first, last, bytes FROM changesets
                WHERE library = ? AND replica = ? AND last >= ? AND first <= ? ORDER BY last
                """, arguments: [library, replica, first, last])
        var held: [Op] = []
        while let row = try rows.next() {
            let bytes: Data = row["bytes"]
            held += try PushState.heldOps(stored: [UInt8](bytes), first: row["first"], last: row["last"], within: first...last)
        }
        return held
    }

    public func changes(library: String, since: Int64, limit: Int, maxBytes: Int, excluding: String?) async throws -> ChangesPage {
        try await read { db in
            let epoch = try Self.epoch(db)
            let head = try Int64.fetchOne(db, sql: "SELECT head FROM libraries WHERE name = ?", arguments: [library]) ?? 0
            var frames: [ChangesPage.Frame] = []
            guard since < head else { return ChangesPage(epoch: epoch, head: head, frames: frames) }
            // `replica IS NOT ?` with NULL keeps every frame; the bytes of a left-out frame are
            // never read (the filter column comes first in the row).
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, format, bytes FROM changesets
                    WHERE library = ? AND seq > ? AND replica IS NOT ? ORDER BY seq LIMIT ?
                    """, arguments: [library, since, excluding, limit])
            var total = 0
            var cut = false
            while let row = try rows.next() {
                let data: Data = row["bytes"]
                if !frames.isEmpty, total + data.count > maxBytes {
                    cut = true
                    break
                }
                total += data.count
                frames.append(ChangesPage.Frame(seq: row["seq"], format: row["format"], bytes: [UInt8](data)))
            }
            // Fewer frames than asked for and no byte cut: everything up to the head was read or
            // left out, so the page covers the head.
            let reachedHead = !cut && frames.count < limit
            return ChangesPage(epoch: epoch, head: head, frames: frames, next: reachedHead ? head : frames.last?.seq)
        }
    }

    public func summary(library: String) async throws -> LibrarySummary? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM libraries WHERE name = ?", arguments: [library])
            else { return nil }
            var replicas: [String: Int64] = [:]
            for head in try Row.fetchAll(db, sql: "SELECT replica, acked FROM heads WHERE library = ?", arguments: [library]) {
                replicas[head["replica"]] = head["acked"]
            }
            return LibrarySummary(
                library: library, epoch: try Self.epoch(db), head: row["head"],
                changesets: row["changesets"], ops: row["ops"], replicas: replicas)
        }
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Administration

    public func createLibrary(_ name: String) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM libraries WHERE name = ?", arguments: [name]) == true {
                throw ServerStoreError(.alreadyExists, "library \(name) already exists")
            }
            try db.execute(sql: "INSERT INTO libraries (name, created_at) VALUES (?, ?)", arguments: [name, Self.now()])
        }
    }

    public func libraries() async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT name FROM libraries ORDER BY name") }
    }

    public func enrollDevice(
        library: String, name: String, readOnly: Bool, tokenHash: String, replacing: String?
    ) async throws -> Device {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM libraries WHERE name = ?", arguments: [library]) == true else {
                throw ServerStoreError(.notFound, "no library named \(library): create it with `syncserver library create \(library)`")
            }
            let id = "dev_" + randomHex(6)
            let now = Self.now()
            var replica: String?
            if let replacing {
                guard let old = try Row.fetchOne(db, sql: "SELECT * FROM devices WHERE id = ?", arguments: [replacing]).map(Self.device),
                    old.library == library
                else {
                    throw ServerStoreError(
                        .notFound, "no device with id \(replacing) in library \(library) (see `syncserver device list`)")
                }
                replica = old.replica
                try db.execute(
                    sql: "UPDATE devices SET replica = NULL, revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                    arguments: [now, replacing])
            }
            try db.execute(
                sql: """
                    INSERT INTO devices (id, library, name, token_hash, read_only, replica, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, library, name, tokenHash, readOnly, replica, now])
            return Device(
                id: id, library: library, name: name, readOnly: readOnly, replica: replica,
                createdAt: now, revokedAt: nil)
        }
    }

    public func devices() async throws -> [Device] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM devices ORDER BY library, created_at, id").map(Self.device)
        }
    }

    public func revokeDevice(id: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [Self.now(), id])
            return db.changesCount > 0
        }
    }

    public func epoch() async throws -> String {
        try await read { db in try Self.epoch(db) }
    }

    public func rotateEpoch() async throws -> String {
        let epoch = randomHex(16)
        try await write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch', ?)", arguments: [epoch])
        }
        return epoch
    }

    // MARK: Helpers

    /// A write transaction whose SQLite errors come out as storage-neutral ``ServerStoreError``s.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch let error as DatabaseError { throw Self.mapped(error) }
    }

    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch let error as DatabaseError { throw Self.mapped(error) }
    }

    static func mapped(_ error: DatabaseError) -> ServerStoreError {
        switch error.resultCode {
        case .SQLITE_FULL:
            ServerStoreError(.storageFull, "the disk holding the server database is full")
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_PERM, .SQLITE_READONLY:
            ServerStoreError(.unavailable, "the server database is not available: \(error.message ?? "\(error.resultCode)")")
        default:
            ServerStoreError(.failed, "server database error: \(error.message ?? "\(error.resultCode)")")
        }
    }

    static func epoch(_ db: Database) throws -> String {
        guard let epoch = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") else {
            throw ServerStoreError(.failed, "the server database has no epoch")
        }
        return epoch
    }

    static func device(_ row: Row) -> Device {
        Device(
            id: row["id"], library: row["library"], name: row["name"], readOnly: row["read_only"],
            replica: row["replica"], createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}
