public import SyncModel

/// The compact binary form of one op's body, shared by the op log and the changeset payload.
///
/// An encoded body is self-contained: `flags u8 · [context] · kind u8 · varint length · payload`.
/// A decoder that does not know `kind` keeps the payload as ``OpBody/unknown(kind:payload:)``
/// and re-encodes it byte for byte, so stores pass newer op kinds on. Protocol.md gives the
/// exact layout of each kind.
public enum OpCodec {
    public static let assignKind: UInt8 = 1
    public static let setAddKind: UInt8 = 2
    public static let setRemoveKind: UInt8 = 3

    static let flagContext: UInt8 = 1

    // MARK: encoding

    public static func encodeBody(_ op: Op) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        encodeBody(op, into: &w)
        return w.bytes
    }

    public static func encodeBody(_ op: Op, into w: inout ByteWriter) {
        w.u8(op.context == nil ? 0 : flagContext)
        if let context = op.context { encode(context, into: &w) }
        var p = ByteWriter(capacity: 64)
        let kind: UInt8
        switch op.body {
        case .assign(let entity, let writes):
            kind = assignKind
            encode(entity, into: &p)
            p.varint(UInt64(writes.count))
            for write in writes {
                p.string(write.field)
                encode(write.value, into: &p)
                encode(write.prev, into: &p)
            }
        case .setAdd(let entity, let set, let element):
            kind = setAddKind
            encode(entity, into: &p)
            p.string(set)
            p.string(element)
        case .setRemove(let entity, let set, let element, let observed):
            kind = setRemoveKind
            encode(entity, into: &p)
            p.string(set)
            p.string(element)
            encode(observed, into: &p)
        case .unknown(let k, let payload):
            kind = k
            p.raw(payload)
        }
        w.u8(kind)
        w.varint(UInt64(p.bytes.count))
        w.raw(p.bytes)
    }

    static func encode(_ entity: EntityRef, into w: inout ByteWriter) {
        w.u8(entity.kind.rawValue)
        w.string(entity.id)
        if entity.kind == .annotation { w.string(entity.parent) }
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

    /// Decodes one body starting at the reader's position and leaves the reader after it.
    public static func decodeBody(_ r: inout ByteReader) throws(DecodeError) -> (OpBody, VersionVector?) {
        let flags = try r.u8()
        guard flags & ~flagContext == 0 else { throw DecodeError("unknown op flags \(flags) at byte \(r.offset - 1)") }
        let context = flags & flagContext != 0 ? try decodeVersionVector(&r) : nil
        let kind = try r.u8()
        let length = try r.length()
        let start = r.offset
        var p = ByteReader(r.bytes, from: start, to: start + length)
        _ = try r.raw(length)
        let body: OpBody
        switch kind {
        case assignKind:
            let entity = try decodeEntity(&p)
            let count = try p.length()
            var writes: [FieldWrite] = []
            writes.reserveCapacity(count)
            for _ in 0..<count {
                let field = try p.string()
                let value = try decodeValue(&p)
                let prev = try decodeIDs(&p)
                writes.append(FieldWrite(field, value, prev: prev))
            }
            body = .assign(entity, writes)
        case setAddKind:
            body = .setAdd(try decodeEntity(&p), set: try p.string(), element: try p.string())
        case setRemoveKind:
            body = .setRemove(try decodeEntity(&p), set: try p.string(), element: try p.string(),
                              observed: try decodeIDs(&p))
        default:
            return (.unknown(kind: kind, payload: Array(try p.raw(p.remaining))), context)
        }
        guard p.isAtEnd else { throw DecodeError("\(p.remaining) stray bytes after op payload ending at byte \(r.offset)") }
        return (body, context)
    }

    public static func decodeBody(_ bytes: [UInt8]) throws(DecodeError) -> (OpBody, VersionVector?) {
        var r = ByteReader(bytes)
        let result = try decodeBody(&r)
        guard r.isAtEnd else { throw DecodeError("stray bytes after op body") }
        return result
    }

    static func decodeEntity(_ r: inout ByteReader) throws(DecodeError) -> EntityRef {
        let k = try r.u8()
        guard let kind = EntityRef.Kind(rawValue: k) else { throw DecodeError("unknown entity kind \(k) at byte \(r.offset - 1)") }
        let id = try r.string()
        let parent = kind == .annotation ? try r.string() : ""
        return EntityRef(kind, id, parent: parent)
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
