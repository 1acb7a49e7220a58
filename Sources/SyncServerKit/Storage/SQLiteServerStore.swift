import Foundation
import GRDB
import SyncCore

/// The default `ServerStore`: one SQLite database, `<data>/server.sqlite`, in WAL mode, with the
/// writer at `synchronous=FULL` so that a 2xx push survives a power cut. Admin commands open the
/// same file from another process while the server runs; nothing is cached, so a revocation is
/// seen by the next request.
///
/// ```swift
/// let store = try SQLiteServerStore.open(dataDirectory: dir, create: true)
/// try await store.createLibrary("newsroom")
/// ```
public final class SQLiteServerStore: ServerStore {
    public let pool: DatabasePool
    public let path: String

    public static let fileName = "server.sqlite"

    init(pool: DatabasePool, path: String) {
        self.pool = pool
        self.path = path
    }

    /// Opens (and with `create`, creates) the data directory's database, runs migrations and
    /// makes sure an epoch exists.
    public static func open(dataDirectory: String, create: Bool = true) throws -> SQLiteServerStore {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if !fm.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard create else {
                throw StoreError("no data directory at \(dataDirectory): run `syncserver library create NAME --data \(dataDirectory)` first")
            }
            try fm.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
        } else if !isDirectory.boolValue {
            throw StoreError("\(dataDirectory) is not a directory")
        }
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        if !create, !fm.fileExists(atPath: path) {
            throw StoreError("no server database at \(path): run `syncserver library create NAME --data \(dataDirectory)` first")
        }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.label = "syncserver"
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
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL).
    public func writerSynchronous() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    // MARK: Requests

    public func lookup(tokenHash: String?) async throws -> (epoch: String, device: Device?) {
        try await pool.read { db in
            let epoch = try Self.epoch(db)
            guard let tokenHash else { return (epoch, nil) }
            let row = try Row.fetchOne(db, sql: "SELECT * FROM devices WHERE token_hash = ?", arguments: [tokenHash])
            return (epoch, row.map(Self.device))
        }
    }

    public func push(_ request: PushRequest) async throws -> PushOutcome {
        let changeset = request.changeset
        let replica = changeset.replica.description
        let first = Int64(changeset.firstCounter), last = Int64(changeset.lastCounter)
        // The common case (no overlap) stores the frame as received; only an overlapping frame
        // is re-encoded, and only then do we know (under the write lock) what to trim.
        let outcome = try await pool.write { db -> PushOutcome in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM devices WHERE id = ?", arguments: [request.deviceID])
            else { return .deviceGone }
            let device = Self.device(row)
            if device.isRevoked || device.library != request.library { return .deviceGone }
            if let bound = device.replica {
                guard bound == replica else {
                    return .replicaMismatch("this device pushes replica \(bound), not \(replica)")
                }
            } else {
                let owner = try String.fetchOne(db, sql: """
                    SELECT id FROM devices
                    WHERE library = ? AND replica = ? AND id <> ? AND revoked_at IS NULL
                    """, arguments: [request.library, replica, device.id])
                if let owner {
                    return .replicaMismatch("replica \(replica) belongs to device \(owner); revoke it first to move the replica to this device")
                }
                try db.execute(sql: "UPDATE devices SET replica = ? WHERE id = ?", arguments: [replica, device.id])
            }
            let epoch = try Self.epoch(db)
            let acked = try Int64.fetchOne(db, sql: "SELECT acked FROM heads WHERE library = ? AND replica = ?",
                                           arguments: [request.library, replica]) ?? 0
            let head = try Int64.fetchOne(db, sql: "SELECT head FROM libraries WHERE name = ?",
                                          arguments: [request.library]) ?? 0
            if last <= acked { return .replay(acked: acked, head: head, epoch: epoch) }
            if first > acked + 1 { return .gap(acked: acked) }
            var bytes = request.frame
            var opCount = Int(last - first + 1)
            var storedFirst = first
            if first <= acked {
                let fresh = changeset.ops.filter { Int64($0.id.counter) > acked }
                bytes = try Changeset.encode(fresh)
                opCount = fresh.count
                storedFirst = acked + 1
            }
            let seq = head + 1
            try db.execute(sql: """
                INSERT INTO changesets (library, seq, replica, first, last, op_count, device, received_at, bytes)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [request.library, seq, replica, storedFirst, last, opCount, device.id,
                                 Self.now(), Data(bytes)])
            try db.execute(sql: """
                INSERT INTO heads (library, replica, acked) VALUES (?, ?, ?)
                ON CONFLICT (library, replica) DO UPDATE SET acked = excluded.acked
                """, arguments: [request.library, replica, last])
            try db.execute(sql: """
                UPDATE libraries SET head = ?, changesets = changesets + 1, ops = ops + ? WHERE name = ?
                """, arguments: [seq, opCount, request.library])
            Failpoint.hit("server.push.mid-apply")
            return .stored(acked: last, seq: seq, epoch: epoch, opsStored: opCount)
        }
        if case .stored = outcome { Failpoint.hit("server.push.after-commit") }
        return outcome
    }

    public func changes(library: String, since: Int64, limit: Int, maxBytes: Int) async throws -> ChangesPage {
        try await pool.read { db in
            let epoch = try Self.epoch(db)
            let head = try Int64.fetchOne(db, sql: "SELECT head FROM libraries WHERE name = ?", arguments: [library]) ?? 0
            var frames: [(seq: Int64, bytes: [UInt8])] = []
            guard since < head else { return ChangesPage(epoch: epoch, head: head, frames: frames) }
            let rows = try Row.fetchCursor(db, sql: """
                SELECT seq, bytes FROM changesets WHERE library = ? AND seq > ? ORDER BY seq LIMIT ?
                """, arguments: [library, since, limit])
            var total = 0
            while let row = try rows.next() {
                let data: Data = row["bytes"]
                if !frames.isEmpty, total + data.count > maxBytes { break }
                total += data.count
                frames.append((row["seq"], [UInt8](data)))
            }
            return ChangesPage(epoch: epoch, head: head, frames: frames)
        }
    }

    public func summary(library: String) async throws -> LibrarySummary? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM libraries WHERE name = ?", arguments: [library])
            else { return nil }
            var replicas: [String: Int64] = [:]
            for head in try Row.fetchAll(db, sql: "SELECT replica, acked FROM heads WHERE library = ?", arguments: [library]) {
                replicas[head["replica"]] = head["acked"]
            }
            return LibrarySummary(library: library, epoch: try Self.epoch(db), head: row["head"],
                                  changesets: row["changesets"], ops: row["ops"], replicas: replicas)
        }
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Administration

    public func createLibrary(_ name: String) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM libraries WHERE name = ?", arguments: [name]) == true {
                throw StoreError("library \(name) already exists")
            }
            try db.execute(sql: "INSERT INTO libraries (name, created_at) VALUES (?, ?)", arguments: [name, Self.now()])
        }
    }

    public func libraries() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM libraries ORDER BY name") }
    }

    public func enrollDevice(library: String, name: String, readOnly: Bool, tokenHash: String) async throws -> Device {
        try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM libraries WHERE name = ?", arguments: [library]) == true else {
                throw StoreError("no library named \(library): create it with `syncserver library create \(library)`")
            }
            let id = "dev_" + randomHex(6)
            let now = Self.now()
            try db.execute(sql: """
                INSERT INTO devices (id, library, name, token_hash, read_only, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [id, library, name, tokenHash, readOnly, now])
            return Device(id: id, library: library, name: name, readOnly: readOnly, replica: nil,
                          createdAt: now, revokedAt: nil)
        }
    }

    public func devices() async throws -> [Device] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM devices ORDER BY library, created_at, id").map(Self.device)
        }
    }

    public func revokeDevice(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [Self.now(), id])
            return db.changesCount > 0
        }
    }

    public func epoch() async throws -> String {
        try await pool.read { db in try Self.epoch(db) }
    }

    public func rotateEpoch() async throws -> String {
        let epoch = randomHex(16)
        try await pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch', ?)", arguments: [epoch])
        }
        return epoch
    }

    // MARK: Helpers

    static func epoch(_ db: Database) throws -> String {
        guard let epoch = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") else {
            throw StoreError("the server database has no epoch")
        }
        return epoch
    }

    static func device(_ row: Row) -> Device {
        Device(id: row["id"], library: row["library"], name: row["name"], readOnly: row["read_only"],
               replica: row["replica"], createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
}

/// `count` random bytes from the system's CSPRNG, as lowercase hex.
func randomHex(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
}
