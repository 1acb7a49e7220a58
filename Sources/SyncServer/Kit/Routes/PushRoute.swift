import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// `POST /v1/libraries/{library}/changesets`: one changeset frame in, an ack out. A 2xx means
/// the frame is committed with `synchronous=FULL`. Everything is checked before the single
/// write transaction: device rights, media type, body size, and the frame itself (limits from
/// the header, then inflate, length and SHA-256, then every op).
struct PushRoute {
    static let mediaType = SyncAPI.mediaType

    let store: any ServerStore
    let config: ServerConfig
    let metrics: ServerMetrics
    let pushSlots: AsyncSemaphore

    struct Ack: Encodable {
        let replica: String
        let acked: Int64
        let seq: Int64
        let epoch: String
    }

    func handle(_ request: Request, context: SyncRequestContext) async throws -> Response {
        guard let device = context.device, let library = context.parameters.get("library") else {
            throw APIError(.internalError, "push route reached without an authenticated device")
        }
        if let refusal = PushPolicy.mayPush(device) { throw Self.error(refusal, library: library, device: device.id) }
        guard Self.isChangesetMediaType(request.headers[.contentType]) else {
            throw APIError(
                .unsupportedMediaType,
                "send the frame with Content-Type: \(Self.mediaType) (got \(request.headers[.contentType] ?? "none"))")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > config.maxBodyBytes {
            throw APIError(.tooLarge, "body of \(length) bytes exceeds the limit of \(config.maxBodyBytes) bytes")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: config.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.tooLarge, "body exceeds the limit of \(config.maxBodyBytes) bytes")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // NIO's parser ends the body with an error when the connection closes before the
            // declared length, or the chunked encoding is broken: the client's doing, not ours.
            throw APIError(
                .incompleteBody,
                "the request body ended before its declared length (the connection closed mid-body) or is malformed; nothing was stored")
        }
        let bytes = [UInt8](buffer: body)
        metrics.bytesIn.increment(by: Int64(bytes.count))

        // Decoding may inflate up to maxUncompressedBytes: bound how many run at once.
        await pushSlots.acquire()
        let push: PushRequest
        let result: PushResult
        do {
            let changeset = try Self.decode(
                bytes, limits: config.changesetLimits,
                maxClockSkewMillis: UInt64(config.maxClockSkewMillis))
            Failpoint.hit("server.push.after-decode")
            push = PushRequest(library: library, deviceID: device.id, changeset: changeset, frame: bytes)
            result = try await store.push(push) { state in PushPolicy.decide(push, state) }
        } catch {
            await pushSlots.release()
            throw error
        }
        await pushSlots.release()
        let replica = push.changeset.replica.description
        switch result {
        case .stored(let acked, let seq, let epoch, let opsStored):
            metrics.pushesStored.increment()
            metrics.opsStored.increment(by: Int64(opsStored))
            context.logger.info(
                "push stored",
                metadata: [
                    "library": .string(library), "replica": .string(replica), "seq": .stringConvertible(seq),
                    "ops": .stringConvertible(opsStored), "acked": .stringConvertible(acked),
                ])
            return Self.ack(Ack(replica: replica, acked: acked, seq: seq, epoch: epoch))
        case .replay(let acked, let head, let epoch):
            metrics.pushesReplayed.increment()
            return Self.ack(Ack(replica: replica, acked: acked, seq: head, epoch: epoch))
        case .refused(let refusal):
            throw Self.error(refusal, library: library, device: device.id, changeset: push.changeset)
        }
    }

    /// A refusal as the API reports it.
    static func error(_ refusal: PushRefusal, library: String, device: String, changeset: Changeset? = nil) -> APIError {
        switch refusal {
        case .deviceGone:
            APIError(.invalidToken, "this device's token was revoked")
        case .readOnly:
            APIError(.readOnly, "device \(device) is enrolled read-only for library \(library)")
        case .replicaMismatch(let reason):
            APIError(.replicaMismatch, reason)
        case .replicaRevoked(let owner):
            APIError(
                .replicaRevoked,
                "replica \(changeset?.replica.description ?? "?") belongs to device \(owner), which was revoked: no other device may push its ops. If this laptop was re-enrolled, the administrator enrols it with `syncserver device enroll --replaces \(owner)`, which moves the replica to the new device"
            )
        case .malformed(let reason):
            APIError(.badChangeset, reason)
        case .equivocation(let counter):
            APIError(
                .equivocation,
                "op \(changeset?.replica.description ?? "?"):\(counter) differs from the op the server holds under that id (other content or stamp): a replica never rewrites an op, so two stores share this replica id (a copied store?) or this store's op log was altered. Nothing from this push was stored"
            )
        case .gap(let acked):
            APIError(
                .gap,
                "the server holds counters 1…\(acked) of replica \(changeset?.replica.description ?? "?"); this frame starts at \(changeset?.firstCounter ?? 0): push from \(acked + 1)",
                acked: acked)
        }
    }

    static func ack(_ ack: Ack) -> Response {
        var response = Response.json(ack)
        response.headers[.epoch] = ack.epoch
        return response
    }

    /// Verifies one frame completely (nothing after it) and its ops' clocks, mapping refusals to
    /// HTTP errors. The checks themselves are `PushValidation.validate` (pure, fuzzed).
    static func decode(
        _ bytes: [UInt8], limits: ChangesetLimits, nowMillis: UInt64 = serverClockMillis(),
        maxClockSkewMillis: UInt64 = 0
    ) throws(APIError) -> Changeset {
        switch PushValidation.validate(bytes, limits: limits, nowMillis: nowMillis, maxClockSkewMillis: maxClockSkewMillis) {
        case .success(let changeset):
            return changeset
        case .failure(let refusal):
            throw APIError(APIError.Code(rawValue: refusal.code) ?? .badChangeset, refusal.reason)
        }
    }

    /// The server's wall clock in milliseconds since 1970.
    static func serverClockMillis() -> UInt64 {
        UInt64(max(0, (Date().timeIntervalSince1970 * 1000).rounded()))
    }

    static func isChangesetMediaType(_ value: String?) -> Bool {
        guard let value else { return false }
        let type = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return type.lowercased() == mediaType
    }
}
