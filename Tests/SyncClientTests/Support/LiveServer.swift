import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import ServerStorage
import SyncClientKit
import SyncServerKit
import SyncStore
import TestHarness
import Testing

@testable import ServerStoreSQLite

/// The real sync server (SyncServerKit over an SQLite store in a temporary directory), run in
/// this process on a loopback port with Hummingbird's `.live` test framework, so that the client
/// is tested over real HTTP against the real server code, with no fake re-implementation of the
/// protocol.
///
/// ```swift
/// let server = try await LiveServer()
/// try await server.serve { port in
///     let a = try server.laptop("A", port: port)
///     _ = try await a.sync()
/// }
/// ```
final class LiveServer: Sendable {
    static let library = "newsroom"
    let dir: String
    let store: SQLiteServerStore
    let config: ServerConfig

    init(dir: String? = nil, configure: (inout ServerConfig) -> Void = { _ in }) async throws {
        let dir = dir ?? NSTemporaryDirectory() + "live-server-" + UUID().uuidString
        var config = ServerConfig(dataDirectory: dir)
        config.logLevel = .warning
        config.rateLimitPerSecond = 10_000
        config.rateLimitBurst = 10_000
        configure(&config)
        self.dir = dir
        self.config = config
        store = try SQLiteServerStore.open(dataDirectory: dir, create: true)
        if try await !store.libraries().contains(Self.library) { try await store.createLibrary(Self.library) }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// A new read-write device of the library: its token.
    func enroll(_ name: String, readOnly: Bool = false) async throws -> String {
        let token = DeviceToken.generate()
        _ = try await store.enrollDevice(library: Self.library, name: name, readOnly: readOnly, tokenHash: token.hash)
        return token.value
    }

    /// Runs the server for the duration of `body`, which gets its port.
    func serve<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        try await buildApplication(config, store: store, metrics: ServerMetrics()).test(.live) { client in
            try await body(try #require(client.port))
        }
    }

    /// A copy of the database as it is now, as a backup would be.
    func backup() throws -> String {
        let copy = NSTemporaryDirectory() + "live-server-backup-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try store.pool.backup(to: try DatabaseQueue(path: copy + "/" + SQLiteServerStore.fileName))
        return copy
    }

    /// The server restored from `backup` with a new epoch, as docs/OPERATIONS.md prescribes.
    static func restored(from backup: String) async throws -> LiveServer {
        let server = try await LiveServer(dir: backup)
        _ = try await server.store.rotateEpoch()
        return server
    }
}

/// A laptop: a fresh store whose remote is this server (through `transport`), with a device of
/// its own, and a client with quick retries.
func laptop(
    _ name: String, token: String, transport: any SyncTransport, opsPerChangeset: Int = 3,
    pageLimit: Int = 2, sleeps: Sleeps? = nil
) throws -> SyncClient {
    let store = try temporaryStore(name: name)
    try store.setRemote(Remote(url: "http://127.0.0.1:9", library: LiveServer.library), token: token)
    return try client(for: store, transport: transport, opsPerChangeset: opsPerChangeset, pageLimit: pageLimit, sleeps: sleeps)
}

func client(
    for store: Store, transport: any SyncTransport, opsPerChangeset: Int = 3, pageLimit: Int = 2,
    sleeps: Sleeps? = nil, attempts: Int = 3
) throws -> SyncClient {
    let retry = RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, sleep: { s in await sleeps?.add(s) })
    return try SyncClient(
        store: store, transport: transport, retry: retry, opsPerChangeset: opsPerChangeset,
        pageLimit: pageLimit)
}

/// Records the waits the client asks for instead of sleeping.
actor Sleeps {
    var waits: [Double] = []
    func add(_ s: Double) { waits.append(s) }
}

/// The real HTTP transport, with failures a test scripts in front of it: a response to return
/// instead of asking the server, or nil for a network failure. Records what was asked, and when.
final class ScriptedTransport: SyncTransport, @unchecked Sendable {
    let inner: any SyncTransport
    private let lock = NSLock()
    private var scripted: [SyncResponse?] = []
    private var passThroughFirst = 0
    private(set) var requests: [(path: String, at: Date)] = []
    /// Seconds each request takes, to let a test stop a client half way through a pull.
    var latency: Double = 0

    init(port: Int) { inner = HTTPTransport(baseURL: "http://127.0.0.1:\(port)") }

    struct NetworkDown: Error {}

    /// The next requests get these responses (nil: the network fails), after `after` requests
    /// that reach the server.
    func script(_ responses: [SyncResponse?], after: Int = 0) {
        lock.withLock {
            scripted = responses; passThroughFirst = after
        }
    }

    var requestLog: [(path: String, at: Date)] { lock.withLock { requests } }

    func send(_ request: SyncRequest) async throws -> SyncResponse {
        let next: SyncResponse?? = lock.withLock {
            requests.append((request.method + " " + request.path, Date()))
            if passThroughFirst > 0 { passThroughFirst -= 1; return nil }
            return scripted.isEmpty ? nil : .some(scripted.removeFirst())
        }
        if latency > 0 { try? await Task.sleep(nanoseconds: UInt64(latency * 1e9)) }
        switch next {
        case .none: return try await inner.send(request)
        case .some(.none): throw NetworkDown()
        case .some(.some(let response)): return response
        }
    }
}

func errorResponse(_ status: Int, _ code: String, retryAfter: String? = nil) -> SyncResponse {
    var headers: [String: String] = [:]
    if let retryAfter { headers["Retry-After"] = retryAfter }
    return SyncResponse(status: status, headers: headers, body: Array(#"{"error":"\#(code)","reason":"scripted"}"#.utf8))
}
