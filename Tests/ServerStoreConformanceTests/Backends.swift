import Foundation
import GRDB
import Logging
import ServerStorage
import ServiceLifecycle

@testable import ServerStoreSQLite

/// A storage backend under test: how to get a fresh, empty store, and how to make its disk full.
/// The conformance suite runs every test on every backend of ``Backends/all``; a new backend
/// (PostgreSQL) joins by adding itself there, without changing a test.
protocol BackendUnderTest: Sendable, CustomStringConvertible {
    /// Runs `body` with a fresh, empty, migrated store (with an epoch), running as a service.
    func withFreshStore(_ body: @Sendable (any ServerStore) async throws -> Void) async throws
    /// Makes the next write that needs more space fail as it would on a full disk.
    func fillDisk(_ store: any ServerStore) async throws
}

enum Backends {
    static let all: [any BackendUnderTest] = [SQLiteBackend()]
}

/// Runs `store` as a ServiceLifecycle service around `body`, as `syncserver serve` does.
func running(_ store: any ServerStore, _ body: @Sendable (any ServerStore) async throws -> Void) async throws {
    let group = ServiceGroup(configuration: .init(services: [store], logger: Logger(label: "conformance")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body(store)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

struct SQLiteBackend: BackendUnderTest {
    var description: String { "SQLite" }

    func withFreshStore(_ body: @Sendable (any ServerStore) async throws -> Void) async throws {
        let dir = NSTemporaryDirectory() + "conformance-sqlite-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await running(try SQLiteServerStore.open(dataDirectory: dir, create: true), body)
    }

    func fillDisk(_ store: any ServerStore) async throws {
        let sqlite = store as! SQLiteServerStore
        // The database may not grow past the pages it has: the next write that needs a page fails
        // with SQLITE_FULL, exactly as on a full disk (the writer connection keeps the cap).
        try await sqlite.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages)")
        }
    }
}
