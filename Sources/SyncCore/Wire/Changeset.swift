import Crypto
public import SyncModel

/// One changeset frame: ops of ONE origin replica with contiguous counters `first…last`,
/// in a checksummed, zlib-compressed envelope. A changeset file is one or more frames back to
/// back (a pull page may carry frames of several replicas). Protocol.md, "Changeset format",
/// is the normative description; in short (fixed integers big-endian), formats 3 and 2:
///
/// ```text
/// off size field
///   0   4  magic "ASCS"
///   4   1  format major (3; 2 and 1 are still read) 5  1  format minor (0; any minor is accepted)
///   6   1  frame type (1 ops; 2 snapshot, 3 encrypted ops: reserved, refused by this version)
///   7   1  key generation (0 = cleartext; anything else is refused by this version)
///   8  16  origin replica id
///  24   8  first op counter (>= 1)
///  32   8  last op counter
///  40   4  op count (== last - first + 1)
///  44   4  uncompressed payload length
///  48  32  SHA-256 over header bytes 0..<48 followed by the uncompressed payload
///  80   4  compressed body length
///  84   …  body: one zlib stream of the payload
/// payload, format 3 = the ops as columns (``OpColumns``)
/// payload, format 2 = u64 base HLC, then per op: zigzag varint (hlc - previous hlc) · OpCodec body
/// ```
///
/// Format 1 (wave 1) has no type or key-generation byte: its header is 82 bytes, the replica at
/// offset 6, the hash over bytes 0..<46, and its op bodies carry no envelope.
///
/// The hash covers the header fields before it, not only the payload, so that a corrupted
/// replica id or counter cannot attribute intact ops to the wrong origin.
///
/// ```swift
/// let frame = try Changeset.encode(unpushed)                 // one replica, counters n…m
/// let pages = try Changeset.decodeAll(body, limits: .default) // verified, fully parsed, or thrown
/// ```
public struct Changeset: Hashable, Sendable {
    public let replica: ReplicaID
    /// In counter order; `ops[i].id == OpID(replica: replica, counter: firstCounter + i)`.
    public let ops: [Op]
    /// The format major version the frame was written in.
    public let format: UInt8
    public var firstCounter: UInt64 { ops.first!.id.counter }
    public var lastCounter: UInt64 { ops.last!.id.counter }

    public static let magic: [UInt8] = Array("ASCS".utf8)
    /// What this version writes (and format 2, for a server or laptop of the previous release).
    public static let formatMajor: UInt8 = 3
    public static let formatMinor: UInt8 = 0
    /// The majors this version reads.
    public static let readableFormats: ClosedRange<UInt8> = 1...3
    /// The majors this version writes: 3, and 2 for servers and laptops of the previous version.
    public static let writableFormats: ClosedRange<UInt8> = 2...3
    public static let headerSize = 84
    /// Smallest possible encoded op in format 1: HLC delta, flags, kind and length, one byte each.
    /// Format 2 adds the envelope's entity kind and two empty strings: three more bytes. A
    /// format-3 op takes at least as many, spread over its columns.
    static let minOpSize = 4

    /// What a frame carries (header byte 6, formats 2 and 3).
    public enum FrameType: UInt8, Sendable, CaseIterable {
        /// Ops of one replica: the only type this version reads.
        case ops = 1
        /// A library's state at a server sequence number (reserved).
        case snapshot = 2
        /// Ops sealed for the library's members, opaque to the server (reserved).
        case encryptedOps = 3

        var name: String {
            switch self {
            case .ops: "ops"
            case .snapshot: "snapshot"
            case .encryptedOps: "encrypted ops"
            }
        }
    }

    static func headerSize(major: UInt8) -> Int { major == 1 ? 82 : 84 }

    /// Encodes `ops` (one replica, contiguous ascending counters starting at >= 1) as one frame
    /// in `format` (3, the columns; or 2, op bodies one after the other).
    public static func encode(_ ops: [Op], format: UInt8 = formatMajor, level: Int32 = 6) throws(ChangesetError) -> [UInt8] {
        guard writableFormats.contains(format) else {
            throw ChangesetError(.unsupportedVersion, "this build writes changeset formats 2 and 3, not \(format)")
        }
        guard let first = ops.first else { throw ChangesetError(.empty, "cannot encode a changeset with no ops") }
        guard first.id.counter >= 1 else { throw ChangesetError(.counterMismatch, "op counters start at 1, got 0") }
        for (i, op) in ops.enumerated() {
            guard op.id.replica == first.id.replica else {
                throw ChangesetError(
                    .mixedReplicas,
                    "op \(i + 1) is from replica \(op.id.replica), not \(first.id.replica)")
            }
            guard op.id.counter >= first.id.counter, op.id.counter - first.id.counter == UInt64(i) else {
                throw ChangesetError(
                    .counterMismatch,
                    "op \(i + 1) has counter \(op.id.counter), expected \(first.id.counter) + \(i)")
            }
        }
        let payload = format == 3 ? OpColumns.encode(ops) : rowPayload(ops)
        let body = Zlib.deflate(payload, level: level)
        guard ops.count <= UInt32.max, payload.count <= UInt32.max, body.count <= UInt32.max else {
            throw ChangesetError(
                .tooLarge,
                "\(ops.count) ops, \(payload.count) payload bytes do not fit one frame; split them")
        }
        var w = ByteWriter(capacity: headerSize + body.count)
        w.raw(magic); w.u8(format); w.u8(formatMinor)
        w.u8(FrameType.ops.rawValue); w.u8(0)  // cleartext
        w.raw(first.id.replica.bytes)
        w.fixed(first.id.counter); w.fixed(ops.last!.id.counter); w.fixed(UInt32(ops.count))
        w.fixed(UInt32(payload.count))
        w.raw(digest(w.bytes[...], payload))
        w.fixed(UInt32(body.count))
        w.raw(body)
        return w.bytes
    }

    /// The format-2 payload: the base HLC, then per op its HLC delta and its op-log body.
    static func rowPayload(_ ops: [Op]) -> [UInt8] {
        var p = ByteWriter(capacity: ops.count * 48)
        p.fixed(ops[0].hlc.raw)
        var previous = ops[0].hlc.raw
        for op in ops {
            // Wrapping difference: any UInt64 pair round-trips through the Int64 bit pattern.
            p.zigzag(Int64(bitPattern: op.hlc.raw &- previous))
            previous = op.hlc.raw
            OpCodec.encodeBody(op, into: &p)
        }
        return p.bytes
    }

    /// The same ops in another format (a frame for a reader of the previous version); a frame
    /// already in `format` is returned as it is.
    public static func transcode(_ frame: [UInt8], to format: UInt8, limits: ChangesetLimits = .default) throws(ChangesetError) -> [UInt8] {
        let header = try inspectHeader(frame)
        if header.formatMajor == format { return frame }
        return try encode(try decode(frame, limits: limits).ops, format: format)
    }

    /// Decodes exactly one frame; anything before or after it is an error. Nothing is returned
    /// unless every check passed and every op parsed.
    public static func decode(_ bytes: [UInt8], limits: ChangesetLimits = .default) throws(ChangesetError) -> Changeset {
        let header = try inspectHeader(bytes)
        if bytes.count > header.frameLength {
            throw ChangesetError(
                .lengthMismatch,
                "\(bytes.count - header.frameLength) bytes follow the frame, which ends at byte \(header.frameLength)")
        }
        return try decodeFrame(bytes, at: 0, header: header, limits: limits)
    }

    /// Decodes a changeset file: one or more frames back to back, possibly of several replicas.
    /// All frames are verified and parsed before anything is returned; an empty file is refused.
    public static func decodeAll(_ bytes: [UInt8], limits: ChangesetLimits = .default) throws(ChangesetError) -> [Changeset] {
        guard !bytes.isEmpty else { throw ChangesetError(.empty, "the changeset file is empty") }
        var frames: [Changeset] = []
        var offset = 0
        while offset < bytes.count {
            do throws(ChangesetError) {
                let header = try inspectHeader(bytes, at: offset)
                frames.append(try decodeFrame(bytes, at: offset, header: header, limits: limits))
                offset += header.frameLength
            } catch {
                throw ChangesetError(error.code, "frame \(frames.count + 1) at byte \(offset): \(error.reason)")
            }
        }
        return frames
    }

    /// Parses and checks the header only (magic, version, frame type, counters): enough to show
    /// a frame to a person or to route it, without inflating anything.
    public static func inspectHeader(_ bytes: [UInt8]) throws(ChangesetError) -> ChangesetHeader {
        try inspectHeader(bytes, at: 0)
    }

    static func inspectHeader(_ bytes: [UInt8], at start: Int) throws(ChangesetError) -> ChangesetHeader {
        let available = bytes.count - start
        let magicSeen = Array(bytes[start..<start + min(4, available)])
        guard magicSeen == Array(magic.prefix(magicSeen.count)) else {
            throw ChangesetError(
                .badMagic,
                "not a changeset: expected magic \"ASCS\" (41 53 43 53), found \(magicSeen.hexString)")
        }
        if available >= 6, !readableFormats.contains(bytes[start + 4]) {
            throw ChangesetError(
                .unsupportedVersion,
                """
                unsupported changeset format version \(bytes[start + 4]).\(bytes[start + 5]); this build reads \
                \(readableFormats.dropLast().map(String.init).joined(separator: ", ")) and \(readableFormats.upperBound) \
                (a newer synccli wrote it: upgrade)
                """)
        }
        let major = available >= 5 ? bytes[start + 4] : formatMajor
        let size = headerSize(major: major)
        if major >= 2, available >= 8 {
            let type = bytes[start + 6], generation = bytes[start + 7]
            guard type == FrameType.ops.rawValue else {
                let name = FrameType(rawValue: type).map { "\($0.name) frame" } ?? "frame of type \(type)"
                throw ChangesetError(
                    .unsupportedFrameType,
                    "a \(name): this build reads only ops frames (type 1); a newer synccli wrote it")
            }
            guard generation == 0 else {
                throw ChangesetError(
                    .encrypted,
                    "the frame is encrypted (key generation \(generation)); this build reads only cleartext frames")
            }
        }
        guard available >= size else {
            throw ChangesetError(.truncated, "header is truncated: \(available) of \(size) bytes")
        }
        let header: ChangesetHeader
        do throws(DecodeError) {
            var r = ByteReader(bytes, from: start + 4, to: start + size)
            let major = try r.u8(), minor = try r.u8()
            let (type, generation) = major >= 2 ? (try r.u8(), try r.u8()) : (FrameType.ops.rawValue, UInt8(0))
            let replica = ReplicaID(bytes: Array(try r.raw(16)))!
            let first = try r.fixed(UInt64.self), last = try r.fixed(UInt64.self), count = try r.fixed(UInt32.self)
            header = ChangesetHeader(
                formatMajor: major, formatMinor: minor, frameType: type, keyGeneration: generation, replica: replica,
                firstCounter: first, lastCounter: last, opCount: count, uncompressedLength: try r.fixed(UInt32.self),
                sha256: Array(try r.raw(32)), compressedLength: try r.fixed(UInt32.self))
        } catch {
            throw ChangesetError(.truncated, error.reason)  // unreachable: the length was checked above
        }
        let (first, last, count) = (header.firstCounter, header.lastCounter, header.opCount)
        guard first >= 1, last >= first, UInt64(count) == last - first + 1 else {
            throw ChangesetError(
                .counterMismatch,
                "header says counters \(first)…\(last) but op count \(count) (counters start at 1 and count must be last - first + 1)")
        }
        return header
    }

    static func decodeFrame(
        _ bytes: [UInt8], at start: Int, header h: ChangesetHeader,
        limits: ChangesetLimits
    ) throws(ChangesetError) -> Changeset {
        // Limits first: they cost nothing and keep a hostile header from making us work.
        let (count, plain, packed) = (Int(h.opCount), Int(h.uncompressedLength), Int(h.compressedLength))
        guard packed <= limits.maxCompressedBytes else {
            throw ChangesetError(
                .tooLarge,
                "compressed body of \(packed) bytes exceeds the limit of \(limits.maxCompressedBytes)")
        }
        guard plain <= limits.maxUncompressedBytes else {
            throw ChangesetError(
                .tooLarge,
                "declared payload of \(plain) bytes exceeds the limit of \(limits.maxUncompressedBytes)")
        }
        guard count <= limits.maxOps else {
            throw ChangesetError(.tooManyOps, "\(count) ops exceed the limit of \(limits.maxOps) per changeset")
        }
        let ratioBound = packed.multipliedReportingOverflow(by: limits.maxInflateRatio)
        guard plain <= ChangesetLimits.ratioFloor || ratioBound.overflow || plain <= ratioBound.partialValue else {
            throw ChangesetError(
                .inflateRatio,
                "declared payload of \(plain) bytes is over \(limits.maxInflateRatio)× its \(packed)-byte compressed body")
        }
        let smallest = h.formatMajor == 1 ? minOpSize : minOpSize + 3
        guard plain >= 8 + count * smallest else {
            throw ChangesetError(
                .malformedOps,
                "declared payload of \(plain) bytes cannot hold \(count) ops (at least \(8 + count * smallest) bytes)")
        }
        guard bytes.count - start - h.headerSize >= packed else {
            throw ChangesetError(
                .truncated,
                "body is truncated: \(bytes.count - start - h.headerSize) of \(packed) compressed bytes present")
        }
        let bodyStart = start + h.headerSize
        let payload: [UInt8]
        do throws(Zlib.InflateError) {
            payload = try Zlib.inflateChecked(Array(bytes[bodyStart..<bodyStart + packed]), expectedLength: plain, limit: plain)
        } catch {
            let code: ChangesetError.Code =
                switch error.kind {
                case .truncated: .truncated
                case .corrupt: .corruptBody
                case .overLimit, .trailingBytes, .lengthMismatch: .lengthMismatch
                }
            throw ChangesetError(code, "body: \(error.reason)")
        }
        // The hash is checked before a single op is parsed: the op parser only sees verified bytes.
        let actual = digest(bytes[start..<start + h.hashedHeaderSize], payload)
        guard actual == h.sha256 else {
            throw ChangesetError(
                .checksumMismatch,
                "SHA-256 mismatch: header says \(h.sha256.hexString), header+payload hash to \(actual.hexString)")
        }
        if h.formatMajor == 3 {
            do throws(DecodeError) {
                let ops = try OpColumns.decode(
                    payload, replica: h.replica, firstCounter: h.firstCounter, count: count,
                    maxPlainBytes: limits.maxUncompressedBytes)
                return Changeset(replica: h.replica, ops: ops, format: 3)
            } catch {
                throw ChangesetError(.malformedOps, "\(error.reason) (columns of the inflated payload)")
            }
        }
        var r = ByteReader(payload)
        var ops: [Op] = []
        ops.reserveCapacity(count)  // bounded: count <= maxOps and <= payload size / 4
        var i = 0
        do throws(DecodeError) {
            var previous = try r.fixed(UInt64.self)
            for index in 0..<count {
                i = index
                let delta = try r.zigzag()
                if index == 0, delta != 0 { throw DecodeError("first op's HLC delta is \(delta), must be 0") }
                previous = previous &+ UInt64(bitPattern: delta)
                let decoded = try OpCodec.decodeBody(&r, format: h.formatMajor)
                let id = OpID(replica: h.replica, counter: h.firstCounter + UInt64(index))
                ops.append(Op(id: id, hlc: HLC(raw: previous), decoded: decoded))
            }
        } catch {
            throw ChangesetError(
                .malformedOps,
                "op \(i + 1) of \(count) (counter \(h.firstCounter + UInt64(i))) is malformed: \(error.reason) (offsets within the inflated payload)")
        }
        guard r.isAtEnd else {
            throw ChangesetError(
                .malformedOps,
                "\(r.remaining) stray payload bytes after the last op, at payload byte \(r.offset)")
        }
        return Changeset(replica: h.replica, ops: ops, format: h.formatMajor)
    }

    static func digest(_ header: ArraySlice<UInt8>, _ payload: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: header)
        hasher.update(data: payload)
        return Array(hasher.finalize())
    }
}

/// The fixed-size front of a frame, readable without inflating anything.
public struct ChangesetHeader: Hashable, Sendable {
    public let formatMajor: UInt8
    public let formatMinor: UInt8
    /// ``Changeset/FrameType`` raw value (format 1: always ops).
    public let frameType: UInt8
    /// 0 for cleartext.
    public let keyGeneration: UInt8
    public let replica: ReplicaID
    public let firstCounter: UInt64
    public let lastCounter: UInt64
    public let opCount: UInt32
    public let uncompressedLength: UInt32
    /// SHA-256 over the header bytes before it (0..<48; format 1: 0..<46) and the uncompressed payload.
    public let sha256: [UInt8]
    public let compressedLength: UInt32
    /// 84 bytes (format 1: 82).
    public var headerSize: Int { Changeset.headerSize(major: formatMajor) }
    /// The header bytes the hash covers: everything before the hash itself.
    var hashedHeaderSize: Int { headerSize - 36 }
    /// Header plus body: where the next frame of a file starts.
    public var frameLength: Int { headerSize + Int(compressedLength) }
}

/// Bounds a decoder enforces from the header alone, before inflating a byte.
public struct ChangesetLimits: Hashable, Sendable {
    public var maxCompressedBytes: Int
    public var maxUncompressedBytes: Int
    /// Largest accepted declared-uncompressed / compressed ratio (for payloads over `ratioFloor`).
    /// Deflate cannot exceed 1032:1, so the default refuses only declarations no body could
    /// honour; a lower value (say 200) also refuses legitimate repetitive frames: 100,000
    /// `setAdd` ops of one tag deflate at ~508:1, and an encoder cannot avoid that.
    public var maxInflateRatio: Int
    public var maxOps: Int

    public init(maxCompressedBytes: Int, maxUncompressedBytes: Int, maxInflateRatio: Int, maxOps: Int) {
        self.maxCompressedBytes = maxCompressedBytes
        self.maxUncompressedBytes = maxUncompressedBytes
        self.maxInflateRatio = maxInflateRatio
        self.maxOps = maxOps
    }

    /// 32 MiB compressed, 256 MiB uncompressed, ratio 1032 (deflate's maximum), 1,000,000 ops.
    public static let `default` = ChangesetLimits(
        maxCompressedBytes: 32 << 20, maxUncompressedBytes: 256 << 20,
        maxInflateRatio: 1032, maxOps: 1_000_000)
    /// Payloads this small are not ratio-checked: the zlib framing alone makes tiny ratios noisy,
    /// and 4 KiB is harmless however it was produced.
    public static let ratioFloor = 4096
}

/// Why a changeset was refused: a stable machine `code` and a `reason` for people that says
/// what is wrong and where.
public struct ChangesetError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case badMagic, unsupportedVersion, unsupportedFrameType, encrypted, truncated, lengthMismatch, checksumMismatch, corruptBody
        case tooLarge, inflateRatio, tooManyOps, malformedOps, counterMismatch, mixedReplicas, empty
    }
    public let code: Code
    public let reason: String
    public init(_ code: Code, _ reason: String) { self.code = code; self.reason = reason }
    public var description: String { "\(code.rawValue): \(reason)" }
}
