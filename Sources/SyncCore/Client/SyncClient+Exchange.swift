import Foundation
import SyncModel
import SyncStore
import SyncWire

extension SyncClient {
    /// The response's epoch when it is not the one our cursor and ack refer to (nil when it is,
    /// or when we never talked to this server: the first page or ack records it).
    func newEpoch(_ response: SyncResponse) throws -> String? {
        guard let epoch = response.header(SyncAPI.Header.epoch), !epoch.isEmpty else { return nil }
        guard let known = try store.syncState().epoch, known != epoch else { return nil }
        return epoch
    }

    /// After a restore (a new epoch, or a cursor past the head): asks the server what it holds
    /// of our ops and in which epoch, then forgets the old cursor and takes that ack and epoch
    /// in ONE transaction, whichever of push and pull saw the restore first, so that no later
    /// pull can start from a cursor of the old epoch. Returns the ack; an ack beyond what this
    /// laptop ever wrote is a protocol error, not something to believe.
    func adopt(epoch: String?) async throws -> UInt64 {
        let library = try await libraryInfo()
        let held = library.replicas[store.replica.description] ?? 0
        let own = try store.ownOpCount()
        guard held <= own else {
            throw SyncClientError(
                .protocolError, "the server says it holds \(held) of this laptop's ops, but this laptop has written only \(own)")
        }
        try updateServerState { state in
            state.forgetServer(newEpoch: library.epoch.isEmpty ? (epoch ?? state.epoch) : library.epoch)
            state.acked = held
        }
        return held
    }

    struct LibraryInfo: Decodable { let epoch: String; let head: Int64; let replicas: [String: UInt64] }

    /// The library info: the server's epoch, head and what it holds of each replica's ops.
    func libraryInfo() async throws -> LibraryInfo {
        let response = try await exchange(SyncRequest(method: "GET", path: SyncAPI.Path.library(remote.library)))
        guard response.status == 200 else { throw failure(response) }
        return try decodeJSON(LibraryInfo.self, response)
    }

    /// Sends with retries: network failures, 429 and 503 are retried with backoff, honouring
    /// `Retry-After`.
    func exchange(_ request: SyncRequest) async throws -> SyncResponse {
        var request = request
        request.headers.append(("Authorization", "Bearer \(token)"))
        request.headers.append(("Accept", SyncAPI.accept))
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
                let hinted = response.header(SyncAPI.Header.retryAfter).flatMap { Double($0) }
                if attempt >= retry.maxAttempts {
                    throw SyncClientError(
                        .retryLater, "the server is busy (\(response.status)) after \(attempt) attempt(s): try again later",
                        serverCode: errorBody(response)?.error, retryAfter: hinted)
                }
                await retry.sleep(max(hinted ?? 0, hinted == nil ? retry.delay(attempt: attempt) : 0))
                continue
            }
            return response
        }
    }

    func errorBody(_ response: SyncResponse) -> SyncAPI.ErrorBody? {
        try? JSONDecoder().decode(SyncAPI.ErrorBody.self, from: Data(response.body))
    }

    func failure(_ response: SyncResponse) -> SyncClientError {
        let body = errorBody(response)
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
