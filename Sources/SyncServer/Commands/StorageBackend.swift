import ArgumentParser
import Foundation
import Logging
public import ServerStorage
import ServerStoreSQLite
import ServiceLifecycle

/// Where the server keeps its data, and the one place that knows which storage backends exist:
/// `serve` and every admin command open their store through ``open(create:)``.
public enum StorageBackend: Sendable, Equatable {
    /// The embedded SQLite database in a data directory (`--data DIR`).
    case sqlite(dataDirectory: String)

    /// A readable name for logs (never a password).
    public var description: String {
        switch self {
        case .sqlite(let dir): "sqlite (\(dir)/\(SQLiteServerStore.fileName))"
        }
    }

    /// Opens the backend; with `create`, creates an empty one (a new epoch) if there is none.
    public func open(create: Bool) throws -> any ServerStore {
        switch self {
        case .sqlite(let dir): try SQLiteServerStore.open(dataDirectory: dir, create: create)
        }
    }

    /// Runs `body` with the store running as a service, then shuts it down gracefully: how an
    /// admin command uses a backend that keeps connections (every backend is a `Service`).
    public func withStore<T: Sendable>(create: Bool = false, _ body: @Sendable (any ServerStore) async throws -> T) async throws -> T {
        let store = try open(create: create)
        let group = ServiceGroup(configuration: .init(services: [store], logger: Logger(label: "syncserver.admin")))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body(store)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

/// `--data DIR`, shared by `serve` and the admin commands (environment `ARTICLESYNC_DATA` as a
/// fallback).
struct StorageOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp("The server's data directory.", valueName: "DIR"))
    var data: String?

    func backend(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StorageBackend {
        if let data { return .sqlite(dataDirectory: data) }
        if let data = environment["ARTICLESYNC_DATA"], !data.isEmpty { return .sqlite(dataDirectory: data) }
        throw ValidationError("say where the data directory is: --data DIR (or ARTICLESYNC_DATA)")
    }
}
