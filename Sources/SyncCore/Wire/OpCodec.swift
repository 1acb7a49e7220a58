public import SyncModel

/// The compact binary form of one op's body, shared by the op log and the changeset payload
/// (Protocol.md, "Op body" gives the exact layout).
///
/// Format 2 (written): an **envelope** every version understands —
/// `flags u8 · [context] · entity kind u8 · entity id · entity parent` — then
/// `op kind u8 · varint length · payload`. The envelope says which entity and which article the
/// op belongs to and whether it counts as work on it, so a store that does not know `kind` still
/// files it, computes rule 3 with it, and re-encodes it byte for byte.
///
/// Format 1 (read only, frames of wave-1 stores): `flags · [context] · kind · length · payload`,
/// the entity inside the payload.
///
/// ```swift
/// let bytes = OpCodec.encodeBody(op)
/// var reader = ByteReader(bytes)
/// let decoded = try OpCodec.decodeBody(&reader, format: 2)   // body, context, countsAsWork
/// ```
public enum OpCodec {
    public static let assignKind: UInt8 = 1
    public static let setAddKind: UInt8 = 2
    public static let setRemoveKind: UInt8 = 3
    public static let textInsertKind: UInt8 = 4
    public static let textDeleteKind: UInt8 = 5

    static let flagContext: UInt8 = 1
    static let flagWork: UInt8 = 2

    // MARK: encoding

    public static func encodeBody(_ op: Op) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        encodeBody(op, into: &w)
        return w.bytes
    }

    public static func encodeBody(_ op: Op, into w: inout ByteWriter) {
        w.u8((op.context == nil ? 0 : flagContext) | (op.countsAsWork ? flagWork : 0))
        if let context = op.context { encode(context, into: &w) }
        let entity = op.entity
        w.u8(entity.kind.rawValue)
        w.string(entity.id)
        w.string(entity.parent)
        var p = ByteWriter(capacity: 64)
        let kind: UInt8
        switch op.body {
        case .assign(_, let writes):
            kind = assignKind
            p.varint(UInt64(writes.count))
            for write in writes {
                p.string(write.field)
                encode(write.value, into: &p)
                encode(write.prev, into: &p)
            }
        case .setAdd(_, let set, let element):
            kind = setAddKind
            p.string(set)
            p.string(element)
        case .setRemove(_, let set, let element, let observed):
            kind = setRemoveKind
            p.string(set)
            p.string(element)
            encode(observed, into: &p)
        case .text(_, let field, let edit):
            kind = encode(field: field, edit, into: &p)
        case .unknown(let k, _, let payload):
            kind = k
            p.raw(payload)
        }
        w.u8(kind)
        w.varint(UInt64(p.bytes.count))
        w.raw(p.bytes)
    }

    static func encode(_ value: Value, into w: inout ByteWriter) {
        switch value {
        case .null: w.u8(0)
        case .bool(let b): w.u8(b ? 2 : 1)
        case .int(let i): w.u8(3); w.zigzag(i)
        case .string(let s): w.u8(4); w.string(s)
        }
    }

    static func encode(_ ids: [OpID], into w: inout ByteWriter) {
        w.varint(UInt64(ids.count))
        for id in ids {
            w.raw(id.replica.bytes)
            w.varint(id.counter)
        }
    }

    static func encode(_ vv: VersionVector, into w: inout ByteWriter) {
        let entries = vv.sorted
        w.varint(UInt64(entries.count))
        for (replica, counter) in entries {
            w.raw(replica.bytes)
            w.varint(counter)
        }
    }

    // MARK: decoding

    /// One decoded body: the content, the author's context, and whether it counts as work.
    public struct Decoded: Sendable {
        public let body: OpBody
        public let context: VersionVector?
        public let countsAsWork: Bool
        /// The bytes the body was decoded from, kept when they are in the op log's encoding
        /// (format 2).
        public var bytes: ArraySlice<UInt8>? = nil
    }

    /// Decodes one body written in `format` (1 or 2) starting at the reader's position and leaves
    /// the reader after it.
    public static func decodeBody(_ r: inout ByteReader, format: UInt8 = 2) throws(DecodeError) -> Decoded {
        if format == 1 { return try decodeFormat1(&r) }
        let start = r.offset
        var decoded = try decodeFormat2(&r)
        decoded.bytes = r.bytes[start..<r.offset]
        return decoded
    }

    /// Decodes exactly one format-2 body (an op-log row).
    public static func decodeBody(_ bytes: [UInt8]) throws(DecodeError) -> Decoded {
        var r = ByteReader(bytes)
        let result = try decodeFormat2(&r)
        guard r.isAtEnd else { throw DecodeError("stray bytes after op body") }
        return result
    }

    static func decodeFormat2(_ r: inout ByteReader) throws(DecodeError) -> Decoded {
        let flags = try r.u8()
        guard flags & ~(flagContext | flagWork) == 0 else {
            throw DecodeError("unknown op flags \(flags) at byte \(r.offset - 1)")
        }
        let context = flags & flagContext != 0 ? try decodeVersionVector(&r) : nil
        let entity = EntityRef(EntityRef.Kind(rawValue: try r.u8()), try r.string(), parent: try r.string())
        let kind = try r.u8()
        var p = try payload(&r)
        let body: OpBody
        switch kind {
        case assignKind: body = .assign(entity, try decodeWrites(&p))
        case setAddKind: body = .setAdd(entity, set: try p.string(), element: try p.string())
        case setRemoveKind:
            body = .setRemove(entity, set: try p.string(), element: try p.string(), observed: try decodeIDs(&p))
        case textInsertKind, textDeleteKind:
            let (field, edit) = try decodeText(kind: kind, &p)
            body = .text(entity, field: field, edit)
        default:
            return Decoded(
                body: .unknown(kind: kind, entity: entity, payload: Array(try p.raw(p.remaining))),
                context: context, countsAsWork: flags & flagWork != 0)
        }
        guard p.isAtEnd else { throw DecodeError("\(p.remaining) stray bytes after op payload ending at byte \(r.offset)") }
        return Decoded(body: body, context: context, countsAsWork: flags & flagWork != 0)
    }

    /// Format 1: no envelope; known kinds name their entity in the payload, unknown ones name
    /// nothing (they are filed under no article and count as no work, as wave-1 stores did).
    static func decodeFormat1(_ r: inout ByteReader) throws(DecodeError) -> Decoded {
        let flags = try r.u8()
        guard flags & ~flagContext == 0 else { throw DecodeError("unknown op flags \(flags) at byte \(r.offset - 1)") }
        let context = flags & flagContext != 0 ? try decodeVersionVector(&r) : nil
        let kind = try r.u8()
        var p = try payload(&r)
        let body: OpBody
        switch kind {
        case assignKind: body = .assign(try decodeFormat1Entity(&p), try decodeWrites(&p))
        case setAddKind: body = .setAdd(try decodeFormat1Entity(&p), set: try p.string(), element: try p.string())
        case setRemoveKind:
            body = .setRemove(
                try decodeFormat1Entity(&p), set: try p.string(), element: try p.string(),
                observed: try decodeIDs(&p))
        case textInsertKind, textDeleteKind:
            // Text ops came with format 2; a format-1 frame carrying them was not written by any
            // version (re-encoded in format 2, such an op would be read as a text op it is not).
            throw DecodeError("op kind \(kind) (text) does not exist in format 1, at byte \(r.offset - 1)")
        default:
            let nowhere = EntityRef(EntityRef.Kind(rawValue: 0), "")
            return Decoded(
                body: .unknown(kind: kind, entity: nowhere, payload: Array(try p.raw(p.remaining))),
                context: context, countsAsWork: false)
        }
        guard p.isAtEnd else { throw DecodeError("\(p.remaining) stray bytes after op payload ending at byte \(r.offset)") }
        return Decoded(body: body, context: context, countsAsWork: TrashRule.isWork(body))
    }

    /// `varint length · bytes`: a reader over the payload; `r` moves past it.
    static func payload(_ r: inout ByteReader) throws(DecodeError) -> ByteReader {
        let length = try r.length()
        let start = r.offset
        _ = try r.raw(length)
        return ByteReader(r.bytes, from: start, to: start + length)
    }

    static func decodeWrites(_ p: inout ByteReader) throws(DecodeError) -> [FieldWrite] {
        let count = try p.length()
        var writes: [FieldWrite] = []
        writes.reserveCapacity(count)
        for _ in 0..<count {
            let field = try p.string()
            let value = try decodeValue(&p)
            writes.append(FieldWrite(field, value, prev: try decodeIDs(&p)))
        }
        return writes
    }

    static func decodeFormat1Entity(_ r: inout ByteReader) throws(DecodeError) -> EntityRef {
        let kind = EntityRef.Kind(rawValue: try r.u8())
        guard kind.isKnown else { throw DecodeError("unknown entity kind \(kind.rawValue) at byte \(r.offset - 1)") }
        let id = try r.string()
        return EntityRef(kind, id, parent: kind == .annotation ? try r.string() : "")
    }

    static func decodeValue(_ r: inout ByteReader) throws(DecodeError) -> Value {
        let tag = try r.u8()
        switch tag {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(try r.zigzag())
        case 4: return .string(try r.string())
        default: throw DecodeError("unknown value tag \(tag) at byte \(r.offset - 1)")
        }
    }

    static func decodeReplica(_ r: inout ByteReader) throws(DecodeError) -> ReplicaID {
        ReplicaID(bytes: Array(try r.raw(16)))!
    }

    static func decodeIDs(_ r: inout ByteReader) throws(DecodeError) -> [OpID] {
        let n = try r.length(limit: r.remaining / 17)
        var ids: [OpID] = []
        ids.reserveCapacity(n)
        for _ in 0..<n {
            let replica = try decodeReplica(&r)
            let counter = try r.varint()
            guard counter > 0 else { throw DecodeError("op counter 0 at byte \(r.offset - 1)") }
            ids.append(OpID(replica: replica, counter: counter))
        }
        return ids
    }

    static func decodeVersionVector(_ r: inout ByteReader) throws(DecodeError) -> VersionVector {
        let n = try r.length(limit: r.remaining / 17)
        var counters: [ReplicaID: UInt64] = [:]
        for _ in 0..<n {
            let replica = try decodeReplica(&r)
            counters[replica] = try r.varint()
        }
        return VersionVector(counters)
    }
}

extension Op {
    /// An op from its id, clock and a decoded body.
    public init(id: OpID, hlc: HLC, decoded: OpCodec.Decoded) {
        self.init(
            id: id, hlc: hlc, body: decoded.body, context: decoded.context, countsAsWork: decoded.countsAsWork,
            encodedBody: decoded.bytes)
    }
}
