import Foundation
import GRDB
public import SyncModel
import SyncWire

/// A local ArticleSync store: one SQLite file holding the op log (the source of truth), the
/// merge state and the materialized library a reporter reads and searches.
///
/// Every mutation appends its ops and updates the materialized tables in one transaction;
/// ops from other replicas go through ``merge(_:)``, which is idempotent and order-independent.
///
/// ```swift
/// let store = try Store.create(at: "/tmp/laptop.sqlite", name: "Amal's laptop")
/// let id = try store.addArticle(ArticleDraft(title: "…", body: "…")).id
/// try store.addTags(["غزة"], to: id)
/// ```
///
/// ## Topics
/// - Local work: `Store+Articles.swift`, `Store+Collections.swift`, `Store+Annotations.swift`
/// - Sync: ``merge(_:)``, ``ops(since:)``, ``versionVector()``
/// - Reading: `Store+Queries.swift`, ``canonicalDump()``
public final class Store: Sendable {
    public let path: String
    public let replica: ReplicaID
    let pool: DatabasePool
    /// Wall clock in milliseconds; injectable so tests can make a laptop's clock run fast or
    /// jump back.
    public let now: @Sendable () -> UInt64
    /// How far beyond our clock a remote op's timestamp may be before it is refused.
    public let maxClockSkewMillis: UInt64
    /// Makes the random ids of new collections and annotations (UUIDv7 from the clock); injectable
    /// so that a benchmark or a test can replay a workload deterministically.
    let identifiers: @Sendable (UInt64) -> String

    public static let defaultMaxClockSkewMillis: UInt64 = 10 * 60 * 1000

    public static let systemClock: @Sendable () -> UInt64 = {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }

    init(
        path: String, pool: DatabasePool, replica: ReplicaID, now: @escaping @Sendable () -> UInt64,
        maxClockSkewMillis: UInt64, identifiers: @escaping @Sendable (UInt64) -> String
    ) {
        self.path = path
        self.pool = pool
        self.replica = replica
        self.now = now
        self.maxClockSkewMillis = maxClockSkewMillis
        self.identifiers = identifiers
    }

    /// A new id for a collection or an annotation.
    func newIdentifier() -> String { identifiers(now()) }

    /// Creates a new store with a fresh replica id (or `replica`, for deterministic benchmark
    /// replays: two stores must never share one). Refuses to overwrite an existing one.
    public static func create(
        at path: String, name: String? = nil, replica: ReplicaID? = nil,
        now: @escaping @Sendable () -> UInt64 = Store.systemClock,
        maxClockSkewMillis: UInt64 = defaultMaxClockSkewMillis,
        identifiers: @escaping @Sendable (UInt64) -> String = Identifier.make
    ) throws -> Store {
        if FileManager.default.fileExists(atPath: path) {
            throw StoreError(.alreadyExists, "a store already exists at \(path)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let pool = try openPool(path)
        let replica = replica ?? ReplicaID.random()
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO meta(key, value) VALUES ('replica', ?), ('name', ?), ('hlc', 0), ('created_at', ?)",
                arguments: [Data(replica.bytes), name ?? ProcessInfo.processInfo.hostName, Int64(now())])
            try db.execute(sql: "INSERT INTO replicas(replica, contiguous) VALUES (?, 0)", arguments: [Data(replica.bytes)])
        }
        return Store(
            path: path, pool: pool, replica: replica, now: now, maxClockSkewMillis: maxClockSkewMillis,
            identifiers: identifiers)
    }

    /// Opens an existing store.
    public static func open(
        at path: String, now: @escaping @Sendable () -> UInt64 = Store.systemClock,
        maxClockSkewMillis: UInt64 = defaultMaxClockSkewMillis,
        identifiers: @escaping @Sendable (UInt64) -> String = Identifier.make
    ) throws -> Store {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.notInitialized, "no store at \(path): run `synccli init` first, or pass --store")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw StoreError(.unreadable, "cannot read the store at \(path): check its permissions")
        }
        let pool = try openPool(path)
        let data = try pool.read { db in try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'replica'") }
        guard let data, let replica = ReplicaID(bytes: Array(data)) else {
            throw StoreError(.unreadable, "\(path) is not an ArticleSync store (no replica id)")
        }
        return Store(
            path: path, pool: pool, replica: replica, now: now, maxClockSkewMillis: maxClockSkewMillis,
            identifiers: identifiers)
    }

    static func openPool(_ path: String) throws -> DatabasePool {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(3)
        config.registerArabicTokenizer()
        do {
            let pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator.migrate(pool)
            return pool
        } catch let error as DatabaseError {
            throw mapped(error, path: path)
        }
    }

    static func mapped(_ error: DatabaseError, path: String) -> StoreError {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(.locked, "the store at \(path) is locked by another process; try again when it finishes")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return StoreError(.unreadable, "\(path) is not a readable ArticleSync store (\(error.message ?? "corrupt"))")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return StoreError(.unreadable, "cannot open the store at \(path): \(error.message ?? "permission denied")")
        case .SQLITE_FULL:
            return StoreError(.unreadable, "disk full while writing \(path); nothing was changed")
        default:
            return StoreError(.unreadable, "store error at \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Runs `body` in one write transaction, mapping SQLite errors to ``StoreError``.
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do {
            return try pool.write(body)
        } catch let error as DatabaseError {
            throw Store.mapped(error, path: path)
        }
    }

    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as DatabaseError {
            throw Store.mapped(error, path: path)
        }
    }

    /// The human name given at `init`.
    public func name() throws -> String {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'name'") ?? "" }
    }

    /// Reads a metadata value (the store's name …).
    func meta(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    func setMeta(_ key: String, _ value: String?) throws {
        try write { db in try Self.setMeta(key, value, in: db) }
    }

    static func setMeta(_ key: String, _ value: String?, in db: Database) throws {
        if let value {
            try db.execute(
                sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        } else {
            try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key])
        }
    }

    /// `PRAGMA integrity_check`: "ok" for a healthy file.
    public func integrityCheck() throws -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n") }
    }
}
