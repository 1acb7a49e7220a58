import Foundation
public import SyncStore

/// How hard to try before giving up on an unreachable or busy server.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Sleeps for the given seconds; injectable so tests can observe waits without waiting.
    public var sleep: @Sendable (Double) async -> Void

    public init(
        maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30,
        sleep: @escaping @Sendable (Double) async -> Void = { try? await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }
    ) {
        self.maxAttempts = maxAttempts; self.baseDelay = baseDelay; self.maxDelay = maxDelay; self.sleep = sleep
    }

    /// Exponential backoff with full jitter.
    func delay(attempt: Int) -> Double {
        let cap = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return Double.random(in: cap / 2...cap)
    }
}

public struct PushReport: Sendable, Equatable, Codable {
    public var opsSent = 0
    public var changesets = 0
    public var bytesSent = 0
    public var acked: UInt64 = 0
    public var epochChanged = false
}

public struct PullReport: Sendable, Equatable, Codable {
    public var pages = 0
    public var opsReceived = 0
    public var opsApplied = 0
    public var bytesReceived = 0
    public var cursor: Int64 = 0
    public var epochChanged = false
    /// Ops came from the server stamped this far (ms) ahead of this laptop's clock, past the
    /// store's skew bound: this laptop's clock is behind. They were applied; 0 when not.
    public var clockBehindMillis: UInt64 = 0
}

/// Push and pull against an ArticleSync server (Protocol.md, "Sync server HTTP API").
///
/// Push sends this replica's unacknowledged ops in frames; the server's ack is recorded only
/// after the response, so an interrupted push is simply re-sent (the server answers replays
/// with the same ack). Pull applies each page and advances its cursor in one transaction, so an
/// interrupted pull resumes after the last page it applied.
///
/// ```swift
/// let client = try SyncClient(store: store)
/// let pushed = try await client.push()
/// let pulled = try await client.pull()
/// ```
public struct SyncClient: Sendable {
    public let store: Store
    public let remote: Remote
    let token: String
    let transport: any SyncTransport
    public var retry: RetryPolicy
    /// At most this many ops per pushed frame: the more ops a frame's columns hold, the better
    /// zlib compresses them (format 3)…
    public var opsPerChangeset: Int
    /// …and at most this many bytes of op bodies (at least one op), so that a push of captured
    /// articles stays well inside the server's body limit (32 MiB by default).
    public var maxFrameBytes: Int
    public var pageLimit: Int
    /// Called with (phase, done, total) as work progresses.
    public var progress: (@Sendable (String, Int, Int) -> Void)?
    /// Checked between frames and pages: when it returns true the client stops after the unit
    /// of work in progress (a pushed frame is acknowledged, a pulled page is applied), never
    /// half way through one.
    public var shouldStop: (@Sendable () -> Bool)?

    public init(
        store: Store, transport: (any SyncTransport)? = nil, retry: RetryPolicy = RetryPolicy(),
        opsPerChangeset: Int = 20_000, maxFrameBytes: Int = 8 << 20, pageLimit: Int = 100
    ) throws {
        guard let remote = try store.remote() else {
            throw SyncClientError(.config, "no remote configured: run `synccli remote set URL --library L --token T`")
        }
        try Remote.validate(url: remote.url, insecure: remote.insecure)
        self.store = store
        self.remote = remote
        self.token = try TokenFile(store: store).read()
        self.transport = transport ?? HTTPTransport(baseURL: remote.url)
        self.retry = retry
        self.opsPerChangeset = opsPerChangeset
        self.maxFrameBytes = maxFrameBytes
        self.pageLimit = pageLimit
    }

    /// Pull, push, pull: what `synccli sync` runs. Records the outcome for `status`.
    public func sync() async throws -> (pull: PullReport, push: PushReport, pullAgain: PullReport) {
        do {
            let first = try await pull()
            let pushed = try await push()
            // Frames others pushed while we pushed; with nothing pushed, the first pull was the
            // last word, so "nothing changed" is one request.
            let second = pushed.opsSent > 0 || pushed.epochChanged ? try await pull() : PullReport(cursor: first.cursor)
            let now = store.now()
            try updateServerState {
                $0.lastSuccessAt = now; $0.lastError = nil; $0.lastErrorAt = nil
            }
            return (first, pushed, second)
        } catch {
            try? store.recordSyncFailure("\(error)")
            throw error
        }
    }
}

extension SyncClient {
    /// Changes the sync state only if the remote is still the one this client talks to: a
    /// `remote set` to another server or library while a sync was in flight must not receive
    /// that sync's cursor, epoch or ack.
    func updateServerState(_ change: @escaping @Sendable (inout SyncState) throws -> Void) throws {
        _ = try store.updateSyncState(stillOurs(change))
    }

    /// `change`, refused when the stored remote is no longer ours.
    func stillOurs(_ change: @escaping @Sendable (inout SyncState) throws -> Void) -> @Sendable (inout SyncState) throws -> Void {
        let remote = self.remote
        return { state in
            guard state.remote == remote else {
                throw SyncClientError(
                    .config, "the remote changed to \(state.remote?.url ?? "none") while syncing with \(remote.url): run the sync again")
            }
            try change(&state)
        }
    }
}

extension Store {
    /// Records why a sync failed, for `synccli status`.
    func recordSyncFailure(_ reason: String) throws {
        let now = self.now()
        try updateSyncState {
            $0.lastError = reason; $0.lastErrorAt = now
        }
    }
}
