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
    /// of our ops, then forgets the old cursor, takes that ack and the new epoch — in ONE
    /// transaction, whichever of push and pull saw the epoch first, so that no later pull can
    /// start from a cursor of the old epoch. Returns the ack.
    func adopt(epoch: String?) async throws -> UInt64 {
        let held = try await serverAck()
        try store.updateSyncState { state in
            state.forgetServer(newEpoch: epoch ?? state.epoch)
            state.acked = held
        }
        return held
    }

    struct LibraryInfo: Decodable { let epoch: String; let head: Int64; let replicas: [String: UInt64] }

    /// What the server holds of our ops, from the library info.
    func serverAck() async throws -> UInt64 {
        let response = try await exchange(SyncRequest(method: "GET", path: SyncAPI.Path.library(remote.library)))
        guard response.status == 200 else { throw failure(response) }
        return try decodeJSON(LibraryInfo.self, response).replicas[store.replica.description] ?? 0
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
