import Foundation
import ServerTestSupport
import SyncClientKit
import SyncModel
import SyncServerKit
import SyncStore
import TestHarness
import Testing

/// The real sync server in this process, on a loopback port (``TemporaryServer/serve(_:)``), so
/// the client is tested over real HTTP against the real server code, with no fake
/// re-implementation of the protocol. Rate limits are lifted: the tests script 429s themselves.
typealias LiveServer = TemporaryServer

extension TemporaryServer {
    convenience init() async throws {
        try await self.init { config in
            config.rateLimitPerSecond = 10_000
            config.rateLimitBurst = 10_000
        }
    }

    /// A new read-write device of the library: its token.
    func enroll(_ name: String) async throws -> String {
        try await enroll(name, readOnly: false).token
    }
}

/// A laptop: a fresh store whose remote is this server (through `transport`), with a device of
/// its own, and a client with quick retries.
func laptop(
    _ name: String, token: String, transport: any SyncTransport, opsPerChangeset: Int = 3,
    pageLimit: Int = 2, sleeps: Sleeps? = nil, attempts: Int = 3
) throws -> SyncClient {
    let store = try temporaryStore(name: name)
    try store.setRemote(Remote(url: "http://127.0.0.1:9", library: LiveServer.library), token: token)
    return try client(
        for: store, transport: transport, opsPerChangeset: opsPerChangeset, pageLimit: pageLimit, sleeps: sleeps, attempts: attempts)
}

/// One laptop with one article to push, against a live server: how the retry tests start.
func withLaptop(
    attempts: Int = 3, _ body: @Sendable (SyncClient, ScriptedTransport, Sleeps) async throws -> Void
) async throws {
    let server = try await LiveServer()
    let token = try await server.enroll("A")
    try await server.serve { port in
        let transport = ScriptedTransport(port: port), sleeps = Sleeps()
        let a = try laptop("A", token: token, transport: transport, sleeps: sleeps, attempts: attempts)
        try a.store.addArticle(ArticleDraft(title: "T", body: "b"))
        try await body(a, transport, sleeps)
    }
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
