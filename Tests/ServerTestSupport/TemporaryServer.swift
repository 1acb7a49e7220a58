import Foundation
import GRDB
public import Hummingbird
import HummingbirdTesting
public import ServerStorage
public import SyncServerKit

@testable public import ServerStoreSQLite

/// The real sync server's pieces in a temporary data directory: an SQLite store with a library,
/// a configuration, and the application `buildApplication` makes of them. The route tests drive
/// it with `.router`, the client tests serve it on a loopback port with `.live`. The directory is
/// removed when the value goes away.
///
/// ```swift
/// let server = try await TemporaryServer()
/// let token = try await server.enroll("laptop").token
/// try await server.app().test(.router) { client in … }
/// ```
public final class TemporaryServer: Sendable {
    public static let library = "newsroom"
    public let dir: String
    public let store: SQLiteServerStore
    public let config: ServerConfig
    public let metrics = ServerMetrics()

    /// A device enrolled on this server, with the token it was given.
    public struct Enrolled: Sendable {
        public let token: String
        public let device: Device
    }

    /// `libraries` are created if missing (a restored directory has them already).
    public init(
        dir: String? = nil, libraries: [String] = [library], configure: (inout ServerConfig) -> Void = { _ in }
    )
        async throws
    {
        let dir = dir ?? NSTemporaryDirectory() + "syncserver-test-" + UUID().uuidString
        var config = ServerConfig(dataDirectory: dir)
        config.logLevel = .warning
        configure(&config)
        self.dir = dir
        self.config = config
        store = try SQLiteServerStore.open(dataDirectory: dir, create: true)
        let existing = try await store.libraries()
        for name in libraries where !existing.contains(name) { try await store.createLibrary(name) }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    public func enroll(_ name: String, library: String = TemporaryServer.library, readOnly: Bool = false) async throws -> Enrolled {
        let token = DeviceToken.generate()
        let device = try await store.enrollDevice(library: library, name: name, readOnly: readOnly, tokenHash: token.hash)
        return Enrolled(token: token.value, device: device)
    }

    public func app() -> some ApplicationProtocol {
        buildApplication(config, store: store, metrics: metrics)
    }

    /// Runs the server on a loopback port for the duration of `body`, which gets the port.
    public func serve<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        try await app().test(.live) { client in
            guard let port = client.port else { throw ServerStoreError(.unavailable, "the live test server has no port") }
            return try await body(port)
        }
    }

    /// A copy of the database as it is now, as a backup would be.
    public func backup() throws -> String {
        let copy = NSTemporaryDirectory() + "syncserver-backup-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try store.pool.backup(to: try DatabaseQueue(path: copy + "/" + SQLiteServerStore.fileName))
        return copy
    }

    /// The server restored from `backup` with a new epoch, as docs/OPERATIONS.md prescribes.
    public static func restored(from backup: String) async throws -> TemporaryServer {
        let server = try await TemporaryServer(dir: backup, libraries: [])
        _ = try await server.store.rotateEpoch()
        return server
    }

    /// Caps the database at the pages it has now, so the next write that needs a page fails with
    /// SQLITE_FULL exactly as on a full disk (the writer connection keeps the cap).
    public func fillDisk() async throws {
        try await store.fillDisk()
    }
}

extension SQLiteServerStore {
    /// See ``TemporaryServer/fillDisk()``.
    public func fillDisk() async throws {
        try await pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages)")
        }
    }
}
