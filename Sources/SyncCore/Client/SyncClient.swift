import Foundation
import SyncFailpoints
public import SyncModel
public import SyncStore
import SyncWire

/// How hard to try before giving up on an unreachable or busy server.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Sleeps for the given seconds; injectable so tests can observe waits without waiting.
    public var sleep: @Sendable (Double) async -> Void

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30,
                sleep: @escaping @Sendable (Double) async -> Void = { try? await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }) {
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
    let transport: SyncTransport
    public var retry: RetryPolicy
    public var opsPerChangeset: Int
    public var pageLimit: Int
    /// Called with (phase, done, total) as work progresses.
    public var progress: (@Sendable (String, Int, Int) -> Void)?
    /// Checked between frames and pages: when it returns true the client stops after the unit
    /// of work in progress (a pushed frame is acknowledged, a pulled page is applied), never
    /// half way through one.
    public var shouldStop: (@Sendable () -> Bool)?

    public init(store: Store, transport: SyncTransport? = nil, retry: RetryPolicy = RetryPolicy(),
                opsPerChangeset: Int = 5_000, pageLimit: Int = 100) throws {
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
        self.pageLimit = pageLimit
    }

    var libraryPath: String {
        "/v1/libraries/" + (remote.library.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? remote.library)
    }

    // MARK: push

    public func push() async throws -> PushReport {
        var report = PushReport()
        var acked = try store.syncState().acked
        var rounds = 0
        while shouldStop?() != true {
            let ops = try store.ops(since: VersionVector([store.replica: acked]), replica: store.replica, limit: opsPerChangeset)
            guard let last = ops.last else { break }
            rounds += 1
            guard rounds < 100_000 else { throw SyncClientError(.protocolError, "push is not making progress") }
            let frame = try Changeset.encode(ops)
            Failpoint.hit("client.push.after-build")
            let response = try await exchange(SyncRequest(
                method: "POST", path: libraryPath + "/changesets",
                headers: [("Content-Type", "application/vnd.articlesync.changeset")], body: frame))
            Failpoint.hit("client.push.after-response")
            if try noteEpoch(response) {
                report.epochChanged = true
                acked = try await serverAck()
                let serverAcked = acked
                try store.updateSyncState { $0.acked = serverAcked }
                continue
            }
            switch response.status {
            case 200:
                let ack = try decodeJSON(PushAck.self, response)
                guard ack.acked <= last.id.counter, ack.replica == store.replica.description else {
                    throw SyncClientError(.protocolError, "the server acknowledged ops we did not send (acked \(ack.acked), sent up to \(last.id.counter))")
                }
                guard ack.acked > acked else { throw SyncClientError(.protocolError, "the server did not take ops \(acked + 1)…\(last.id.counter)") }
                acked = ack.acked
                let (newAcked, now) = (acked, store.now())
                try store.updateSyncState { $0.acked = newAcked; $0.ackedAt = now }
                report.opsSent += ops.count
                report.changesets += 1
                report.bytesSent += frame.count
                progress?("push", Int(acked), Int(try store.ownOpCount()))
            case 409 where errorCode(response) == "gap":
                // The server holds fewer of our ops than we recorded (restored without a new
                // epoch): start again from what it has.
                let serverAcked = (try? decodeJSON(GapBody.self, response).acked) ?? 0
                guard serverAcked < acked else { throw failure(response) }
                acked = serverAcked
                try store.updateSyncState { $0.acked = serverAcked }
            default:
                throw failure(response)
            }
        }
        report.acked = acked
        return report
    }

    struct PushAck: Decodable { let replica: String; let acked: UInt64 }
    struct GapBody: Decodable { let acked: UInt64 }
    struct LibraryInfo: Decodable { let epoch: String; let head: Int64; let replicas: [String: UInt64] }

    /// What the server holds of our ops, from the library info.
    func serverAck() async throws -> UInt64 {
        let response = try await exchange(SyncRequest(method: "GET", path: libraryPath))
        guard response.status == 200 else { throw failure(response) }
        return try decodeJSON(LibraryInfo.self, response).replicas[store.replica.description] ?? 0
    }

    // MARK: pull

    public func pull() async throws -> PullReport {
        var report = PullReport()
        var cursor = try store.syncState().cursor
        var restarts = 0
        while true {
            let response = try await exchange(SyncRequest(method: "GET", path: libraryPath + "/changes?since=\(cursor)&limit=\(pageLimit)"))
            let epochChanged = try noteEpoch(response)
            if epochChanged || (response.status == 409 && errorCode(response) == "cursor_ahead") {
                // The server was restored from a backup: read everything again (duplicates are
                // ignored) and let push re-send what it lost.
                restarts += 1
                guard restarts <= 3 else { throw failure(response) }
                report.epochChanged = true
                cursor = 0
                try store.updateSyncState { $0.cursor = 0; $0.acked = 0 }
                continue
            }
            if response.status == 204 { break }
            guard response.status == 200 else { throw failure(response) }
            guard let next = response.header("ArticleSync-Next").flatMap({ Int64($0) }), next > cursor else {
                throw SyncClientError(.protocolError, "the server's page has no valid ArticleSync-Next header")
            }
            let frames = try Changeset.decodeAll(response.body)
            let ops = frames.flatMap(\.ops)
            let epoch = response.header("ArticleSync-Epoch")
            let merged = try store.merge(ops, updatingSyncState: { state in
                Failpoint.hit("client.pull.mid-apply")
                state.cursor = next
                if let epoch { state.epoch = epoch }
            })
            cursor = next
            report.pages += 1
            report.opsReceived += merged.received
            report.opsApplied += merged.applied
            report.bytesReceived += response.body.count
            let head = response.header("ArticleSync-Head").flatMap { Int($0) } ?? Int(next)
            progress?("pull", Int(next), head)
            if response.header("ArticleSync-More")?.lowercased() != "true" || shouldStop?() == true { break }
        }
        report.cursor = cursor
        return report
    }

    /// Pull, push, pull: what `synccli sync` runs. Records the outcome for `status`.
    public func sync() async throws -> (pull: PullReport, push: PushReport, pullAgain: PullReport) {
        do {
            let first = try await pull()
            let pushed = try await push()
            let second = try await pull()
            let now = store.now()
            try store.updateSyncState { $0.lastSuccessAt = now; $0.lastError = nil; $0.lastErrorAt = nil }
            return (first, pushed, second)
        } catch {
            try? store.recordSyncFailure("\(error)")
            throw error
        }
    }

    // MARK: plumbing

    /// Records the server's epoch; true when it changed since the last exchange.
    func noteEpoch(_ response: SyncResponse) throws -> Bool {
        guard let epoch = response.header("ArticleSync-Epoch"), !epoch.isEmpty else { return false }
        let known = try store.syncState().epoch
        if known == epoch { return false }
        try store.updateSyncState { $0.epoch = epoch }
        return known != nil
    }

    /// Sends with retries: network failures, 429 and 503 are retried with backoff, honouring
    /// `Retry-After`.
    func exchange(_ request: SyncRequest) async throws -> SyncResponse {
        var request = request
        request.headers.append(("Authorization", "Bearer \(token)"))
        request.headers.append(("Accept", "application/vnd.articlesync.changeset, application/json"))
        var attempt = 0
        while true {
            attempt += 1
            let response: SyncResponse
            do {
                response = try await transport.send(request)
            } catch {
                if attempt >= retry.maxAttempts {
                    throw SyncClientError(.unavailable, "cannot reach the server at \(remote.url) after \(attempt) attempts: \(error)")
                }
                await retry.sleep(retry.delay(attempt: attempt))
                continue
            }
            if response.status == 429 || response.status == 503 {
                let hinted = response.header("Retry-After").flatMap { Double($0) }
                if attempt >= retry.maxAttempts {
                    throw SyncClientError(.retryLater, "the server is busy (\(response.status)) after \(attempt) attempt(s): try again later",
                                    serverCode: errorCode(response), retryAfter: hinted)
                }
                await retry.sleep(max(hinted ?? 0, hinted == nil ? retry.delay(attempt: attempt) : 0))
                continue
            }
            return response
        }
    }

    struct ErrorBody: Decodable { let error: String; let reason: String? }

    func errorCode(_ response: SyncResponse) -> String? {
        try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body)).error
    }

    func failure(_ response: SyncResponse) -> SyncClientError {
        let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body))
        let reason = body.map { "\($0.reason ?? $0.error) (\($0.error))" } ?? "HTTP \(response.status)"
        switch response.status {
        case 401, 403: return SyncClientError(.denied, "the server refused this device: \(reason)", serverCode: body?.error)
        case 500...: return SyncClientError(.unavailable, "server error: \(reason)", serverCode: body?.error)
        default: return SyncClientError(.rejected, "the server refused the request: \(reason)", serverCode: body?.error)
        }
    }

    func decodeJSON<T: Decodable>(_ type: T.Type, _ response: SyncResponse) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(response.body)) } catch {
            throw SyncClientError(.protocolError, "unexpected reply from the server (HTTP \(response.status))")
        }
    }
}

extension Store {
    /// Records why a sync failed, for `synccli status`.
    func recordSyncFailure(_ reason: String) throws {
        let now = self.now()
        try updateSyncState { $0.lastError = reason; $0.lastErrorAt = now }
    }
}
