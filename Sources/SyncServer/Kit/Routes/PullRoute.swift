import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// `GET /v1/libraries/{library}/changes?since=<seq>&limit=<n>&exclude=<replica>`: the stored
/// frames after a cursor, concatenated, in seq order, without the frames `exclude` pushed (the
/// puller's own). Nothing newer is a 204 from one indexed lookup of the library's head, whatever
/// the library's size; a 204 whose `Next` is past `since` says the frames up to `Next` were all
/// left out.
struct PullRoute {
    static let defaultLimit = 100
    static let maxLimit = 1000

    let store: any ServerStore
    let config: ServerConfig
    let metrics: ServerMetrics
    /// Shared with pushes: re-encoding a frame decodes it in full.
    let decodeSlots: AsyncSemaphore

    func handle(_ request: Request, context: SyncRequestContext) async throws -> Response {
        guard let library = context.parameters.get("library") else {
            throw APIError(.internalError, "pull route reached without a library")
        }
        let since = try Self.parseCursor(request.uri.queryParameters.get("since"))
        let limit = try Self.parseLimit(request.uri.queryParameters.get("limit"))
        let excluding = try Self.parseReplica(request.uri.queryParameters.get("exclude"))
        let page = try await store.changes(
            library: library, since: since, limit: limit, maxBytes: config.maxPageBytes, excluding: excluding?.description)
        if since > page.head {
            throw APIError(
                .cursorAhead,
                "cursor \(since) is ahead of this server's head \(page.head) (epoch \(page.epoch)): the server was restored from an older backup; reset the cursor and re-push",
                head: page.head)
        }
        // A client gets the readable prefix of the page: frames up to the first one in a format it
        // cannot read. Only when that is the very first frame is the answer 406. A laptop of the
        // previous version (format 2) gets format-3 frames re-encoded, the same ops.
        let readable = SyncAPI.readableFormat(accept: request.headers[.accept])
        var frames = page.frames[...]
        var next = page.next ?? since
        if let cut = frames.firstIndex(where: { Self.served($0.format, to: readable) == nil }) {
            guard cut > frames.startIndex else {
                let newer = frames[cut]
                throw APIError(
                    .clientTooOld,
                    """
                    the frame at seq \(newer.seq) is in changeset format \(newer.format), which this client cannot read \
                    (it reads format \(readable)): upgrade synccli; nothing is lost, the frames wait on the server
                    """)
            }
            frames = frames[..<cut]
            next = frames[frames.index(before: cut)].seq
        }
        var headers: HTTPFields = [
            .epoch: page.epoch,
            .head: String(page.head),
            .next: String(next),
            .more: next < page.head ? "true" : "false",
        ]
        guard !frames.isEmpty else {
            return Response(status: .noContent, headers: headers)
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(page.byteCount)
        for frame in frames {
            guard let format = Self.served(frame.format, to: readable), format != frame.format else {
                buffer.writeBytes(frame.bytes)
                continue
            }
            await decodeSlots.acquire()
            let bytes = Result { try Changeset.transcode(frame.bytes, to: format, limits: config.changesetLimits) }
            await decodeSlots.release()
            do {
                buffer.writeBytes(try bytes.get())
            } catch {
                throw APIError(.internalError, "the frame at seq \(frame.seq) could not be re-encoded in format \(format): \(error)")
            }
        }
        metrics.bytesOut.increment(by: Int64(buffer.readableBytes))
        headers[.contentType] = PushRoute.mediaType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// The format a frame stored in `format` goes out in to a client that reads up to `readable`:
    /// as stored, or a format-3 frame re-encoded in format 2 for the previous release; nil when
    /// the client cannot read it at all (a wave-1 client and a newer frame).
    static func served(_ format: UInt8, to readable: UInt8) -> UInt8? {
        if format <= readable { return format }
        return readable == 2 && format == 3 ? 2 : nil
    }

    /// A cursor is a decimal seq ≥ 0 (at most 18 digits); an absent `since` means 0.
    static func parseCursor(_ raw: String?) throws(APIError) -> Int64 {
        guard let raw else { return 0 }
        guard (1...18).contains(raw.utf8.count), raw.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int64(raw) else {
            throw APIError(.badCursor, "since must be a decimal sequence number ≥ 0 (0 = from the start), got \"\(raw.prefix(40))\"")
        }
        return value
    }

    /// `exclude`, when present, is a replica id: 32 hex digits.
    static func parseReplica(_ raw: String?) throws(APIError) -> ReplicaID? {
        guard let raw else { return nil }
        guard let replica = ReplicaID(hex: raw.lowercased()) else {
            throw APIError(.badRequest, "exclude must be a replica id (32 hex digits), got \"\(raw.prefix(40))\"")
        }
        return replica
    }

    static func parseLimit(_ raw: String?) throws(APIError) -> Int {
        guard let raw else { return defaultLimit }
        guard raw.utf8.count <= 7, raw.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(raw),
            (1...maxLimit).contains(value)
        else {
            throw APIError(.badLimit, "limit must be a whole number from 1 to \(maxLimit), got \"\(raw.prefix(40))\"")
        }
        return value
    }
}
