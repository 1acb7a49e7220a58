import SyncModel

/// Payloads of the two text op kinds (Protocol.md, "Text ops").
///
/// `text.insert` (kind 4): `field string · flags u8 · replica 16 · seq varint · [left] · [right] ·
/// text string`, where flags bit 0 = has left, bit 1 = has right, bit 2 = left is a character of
/// the same replica (its 16 bytes are left out), bit 3 = the same for right; an origin is
/// `[replica 16] · zigzag(origin seq − seq)`.
///
/// `text.delete` (kind 5): `field string · count varint · count × (replica 16 · seq varint ·
/// length varint)`.
extension OpCodec {
    static let textHasLeft: UInt8 = 1
    static let textHasRight: UInt8 = 2
    static let textLeftSameReplica: UInt8 = 4
    static let textRightSameReplica: UInt8 = 8

    /// Writes the payload of a text op; returns its kind.
    static func encode(field: String, _ edit: TextEdit, into p: inout ByteWriter) -> UInt8 {
        p.string(field)
        switch edit {
        case .insert(let insert):
            let replica = insert.id.replica
            var flags: UInt8 = 0
            if let left = insert.left { flags |= textHasLeft | (left.replica == replica ? textLeftSameReplica : 0) }
            if let right = insert.right { flags |= textHasRight | (right.replica == replica ? textRightSameReplica : 0) }
            p.u8(flags)
            p.raw(replica.bytes)
            p.varint(UInt64(insert.id.seq))
            for origin in [insert.left, insert.right] {
                guard let origin else { continue }
                if origin.replica != replica { p.raw(origin.replica.bytes) }
                p.zigzag(Int64(origin.seq) - Int64(insert.id.seq))
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: insert.text)
            p.string(String(view))
            return textInsertKind
        case .delete(let delete):
            p.varint(UInt64(delete.ranges.count))
            for range in delete.ranges {
                p.raw(range.replica.bytes)
                p.varint(UInt64(range.seq))
                p.varint(UInt64(range.count))
            }
            return textDeleteKind
        }
    }

    static func decodeText(kind: UInt8, _ p: inout ByteReader) throws(DecodeError) -> (String, TextEdit) {
        let field = try p.string()
        if kind == textInsertKind {
            let flags = try p.u8()
            guard flags & ~(textHasLeft | textHasRight | textLeftSameReplica | textRightSameReplica) == 0 else {
                throw DecodeError("unknown text insert flags \(flags) at byte \(p.offset - 1)")
            }
            let replica = try decodeReplica(&p)
            let seq = try decodeSeq(&p)
            func origin(_ has: UInt8, _ same: UInt8) throws(DecodeError) -> CharID? {
                guard flags & has != 0 else { return nil }
                let r = flags & same != 0 ? replica : try decodeReplica(&p)
                let value = Int64(seq) + (try p.zigzag())
                guard value >= 0, value <= Int64(UInt32.max) else { throw DecodeError("origin seq \(value) out of range at byte \(p.offset)") }
                return CharID(replica: r, seq: UInt32(value))
            }
            let left = try origin(textHasLeft, textLeftSameReplica)
            let right = try origin(textHasRight, textRightSameReplica)
            let text = Array(try p.string().unicodeScalars)
            let insert = TextInsert(id: CharID(replica: replica, seq: seq), left: left, right: right, text: text)
            do throws(DecodeError) { try check(field: field, insert) } catch { throw DecodeError("\(error.reason) at byte \(p.offset)") }
            return (field, .insert(insert))
        }
        let n = try p.length(limit: p.remaining / 18)
        var ranges: [CharRange] = []
        ranges.reserveCapacity(n)
        for _ in 0..<n {
            let replica = try decodeReplica(&p)
            ranges.append(CharRange(replica: replica, seq: try decodeSeq(&p), count: try decodeSeq(&p)))
        }
        let delete = TextDelete(ranges: ranges)
        do throws(DecodeError) { try check(field: field, delete) } catch { throw DecodeError("\(error.reason) at byte \(p.offset)") }
        return (field, .delete(delete))
    }

    /// What every decoded text insert must satisfy, whatever the format: some characters, whose
    /// seqs stay below 2^32.
    static func check(field: String, _ insert: TextInsert) throws(DecodeError) {
        guard !field.isEmpty else { throw DecodeError("text op without a field name") }
        guard !insert.text.isEmpty else { throw DecodeError("text insert of no characters") }
        guard UInt64(insert.id.seq) + UInt64(insert.text.count) <= UInt64(UInt32.max) else {
            throw DecodeError("text insert runs past the last character seq")
        }
    }

    /// A decoded text delete: at least one range, each of at least one character below 2^32.
    static func check(field: String, _ delete: TextDelete) throws(DecodeError) {
        guard !field.isEmpty else { throw DecodeError("text op without a field name") }
        guard !delete.ranges.isEmpty else { throw DecodeError("text delete of no ranges") }
        for range in delete.ranges where range.count == 0 || UInt64(range.seq) + UInt64(range.count) > UInt64(UInt32.max) {
            throw DecodeError("text delete range of \(range.count) from seq \(range.seq)")
        }
    }

    static func decodeSeq(_ p: inout ByteReader) throws(DecodeError) -> UInt32 {
        let v = try p.varint()
        guard v <= UInt64(UInt32.max) else { throw DecodeError("character seq \(v) over 2^32 at byte \(p.offset - 1)") }
        return UInt32(v)
    }
}
