import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SyncCore

/// `POST /v1/libraries/{library}/changesets`: one changeset frame in, an ack out. A 2xx means
/// the frame is committed with `synchronous=FULL`. Everything is checked before the single
/// write transaction: device rights, media type, body size, and the frame itself (limits from
/// the header, then inflate, length and SHA-256, then every op).
struct PushRoute {
    static let mediaType = "application/vnd.articlesync.changeset"

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
            throw SyncError(.internalError, "push route reached without an authenticated device")
        }
        guard !device.readOnly else {
            throw SyncError(.readOnly, "device \(device.id) is enrolled read-only for library \(library)")
        }
        guard Self.isChangesetMediaType(request.headers[.contentType]) else {
            throw SyncError(.unsupportedMediaType,
                            "send the frame with Content-Type: \(Self.mediaType) (got \(request.headers[.contentType] ?? "none"))")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > config.maxBodyBytes {
            throw SyncError(.tooLarge, "body of \(length) bytes exceeds the limit of \(config.maxBodyBytes) bytes")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: config.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw SyncError(.tooLarge, "body exceeds the limit of \(config.maxBodyBytes) bytes")
        }
        let bytes = [UInt8](buffer: body)
        metrics.bytesIn.increment(by: Int64(bytes.count))

        // Decoding may inflate up to maxUncompressedBytes: bound how many run at once.
        await pushSlots.acquire()
        let changeset: Changeset
        let outcome: PushOutcome
        do {
            changeset = try Self.decode(bytes, limits: config.changesetLimits,
                                        maxClockSkewMillis: UInt64(config.maxClockSkewMillis))
            Failpoint.hit("server.push.after-decode")
            outcome = try await store.push(PushRequest(library: library, deviceID: device.id, changeset: changeset, frame: bytes))
        } catch {
            await pushSlots.release()
            throw error
        }
        await pushSlots.release()
        let replica = changeset.replica.description
        switch outcome {
        case .stored(let acked, let seq, let epoch, let opsStored):
            metrics.pushesStored.increment()
            metrics.opsStored.increment(by: Int64(opsStored))
            context.logger.info("push stored", metadata: [
                "library": .string(library), "replica": .string(replica), "seq": .stringConvertible(seq),
                "ops": .stringConvertible(opsStored), "acked": .stringConvertible(acked),
            ])
            return Self.ack(Ack(replica: replica, acked: acked, seq: seq, epoch: epoch))
        case .replay(let acked, let head, let epoch):
            metrics.pushesReplayed.increment()
            return Self.ack(Ack(replica: replica, acked: acked, seq: head, epoch: epoch))
        case .gap(let acked):
            throw SyncError(.gap, "the server holds counters 1…\(acked) of replica \(replica); this frame starts at \(changeset.firstCounter): push from \(acked + 1)",
                            acked: acked)
        case .replicaMismatch(let reason):
            throw SyncError(.replicaMismatch, reason)
        case .deviceGone:
            throw SyncError(.invalidToken, "this device's token was revoked")
        }
    }

    static func ack(_ ack: Ack) -> Response {
        var response = Response.json(ack)
        response.headers[.epoch] = ack.epoch
        return response
    }

    /// Verifies one frame completely (nothing after it) and its ops' clocks, mapping refusals to
    /// HTTP errors. The checks themselves are `PushValidation.validate` (pure, fuzzed).
    static func decode(_ bytes: [UInt8], limits: ChangesetLimits, nowMillis: UInt64 = serverClockMillis(),
                       maxClockSkewMillis: UInt64 = 0) throws(SyncError) -> Changeset {
        switch PushValidation.validate(bytes, limits: limits, nowMillis: nowMillis, maxClockSkewMillis: maxClockSkewMillis) {
        case .success(let changeset):
            return changeset
        case .failure(let refusal):
            throw SyncError(SyncError.Code(rawValue: refusal.code) ?? .badChangeset, refusal.reason)
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
