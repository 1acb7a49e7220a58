public import SyncModel

/// The canonical bytes of one text's merge state (``TextSequence/packedSpans``): what a store
/// keeps per text field and a rebuild must reproduce byte for byte (Protocol.md, "Text state").
///
/// Columns, so that zlib finds the repetition in each: `version u8 (1) · replicas varint ·
/// replicas × 16 bytes (ascending) · spans varint`, then the spans' `flags u8` column, `replica
/// index varint` column, `length varint` column, `seq` column (zigzag of seq − the previous
/// span's end), the written left origins (`replica index varint · zigzag(seq − span's seq)`), the
/// written right origins (same), and `text string`: every span's characters, tombstones
/// included. Flags: bit 0 deleted, bit 1 has left, bit 2 has right, bit 3 left is the last
/// character of the span before (not written), bit 4 right is the first character of the span
/// after (not written).
public enum TextStateCodec {
    public static let version: UInt8 = 1

    static let deleted: UInt8 = 1
    static let hasLeft: UInt8 = 2
    static let hasRight: UInt8 = 4
    static let leftIsPrevious: UInt8 = 8
    static let rightIsNext: UInt8 = 16

    public static func encode(_ text: TextSequence) -> [UInt8] {
        let (replicas, spans, chars) = text.packedSpans
        var w = ByteWriter(capacity: 64 + replicas.count * 16 + spans.count * 10)
        w.u8(version)
        w.varint(UInt64(replicas.count))
        for r in replicas { w.raw(r.bytes) }
        w.varint(UInt64(spans.count))
        var flagsColumn = ByteWriter(capacity: spans.count)
        var replicaColumn = ByteWriter(capacity: spans.count)
        var seqColumn = ByteWriter(capacity: spans.count * 2)
        var lengthColumn = ByteWriter(capacity: spans.count)
        var leftColumn = ByteWriter(capacity: spans.count * 2)
        var rightColumn = ByteWriter(capacity: spans.count)
        var previousEnd: Int64 = 0
        for (k, span) in spans.enumerated() {
            let previousLast = k > 0 ? TextSequence.PackedChar(replica: spans[k - 1].replica, seq: spans[k - 1].seq + spans[k - 1].length - 1) : nil
            let nextFirst = k + 1 < spans.count ? TextSequence.PackedChar(replica: spans[k + 1].replica, seq: spans[k + 1].seq) : nil
            var flags: UInt8 = span.deleted ? deleted : 0
            if let left = span.left {
                flags |= hasLeft
                if left == previousLast {
                    flags |= leftIsPrevious
                } else {
                    leftColumn.varint(UInt64(left.replica))
                    leftColumn.zigzag(Int64(left.seq) - Int64(span.seq))
                }
            }
            if let right = span.right {
                flags |= hasRight
                if right == nextFirst {
                    flags |= rightIsNext
                } else {
                    rightColumn.varint(UInt64(right.replica))
                    rightColumn.zigzag(Int64(right.seq) - Int64(span.seq))
                }
            }
            flagsColumn.u8(flags)
            replicaColumn.varint(UInt64(span.replica))
            seqColumn.zigzag(Int64(span.seq) - previousEnd)
            previousEnd = Int64(span.seq) + Int64(span.length)
            lengthColumn.varint(UInt64(span.length))
        }
        for column in [flagsColumn, replicaColumn, lengthColumn, seqColumn, leftColumn, rightColumn] { w.raw(column.bytes) }
        w.string(String(chars))
        return w.bytes
    }

    /// The text back from its bytes; refused (with the reason) when the bytes are not a state
    /// this version wrote or do not describe a text.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> TextSequence {
        var r = ByteReader(bytes)
        let v = try r.u8()
        guard v == version else { throw DecodeError("text state version \(v), this version reads \(version)") }
        let replicaCount = try r.length(limit: r.remaining / 16)
        var table: [ReplicaID] = []
        table.reserveCapacity(replicaCount)
        for _ in 0..<replicaCount { table.append(ReplicaID(bytes: Array(try r.raw(16)))!) }
        let n = try r.length(limit: r.remaining / 4)
        var spans = [TextSequence.PackedSpan](
            repeating: TextSequence.PackedSpan(replica: 0, seq: 0, length: 0, deleted: false, left: nil, right: nil), count: n)
        var flags = [UInt8](repeating: 0, count: n)
        for k in 0..<n {
            flags[k] = try r.u8()
            guard flags[k] & ~(deleted | hasLeft | hasRight | leftIsPrevious | rightIsNext) == 0 else {
                throw DecodeError("unknown span flags \(flags[k]) at byte \(r.offset - 1)")
            }
            spans[k].deleted = flags[k] & deleted != 0
        }
        func u32(_ value: Int64, _ what: String) throws(DecodeError) -> UInt32 {
            guard value >= 0, value <= Int64(UInt32.max) else { throw DecodeError("\(what) \(value) out of range at byte \(r.offset)") }
            return UInt32(value)
        }
        for k in 0..<n { spans[k].replica = try u32(Int64(clamping: try r.varint()), "replica index") }
        for k in 0..<n {
            spans[k].length = try u32(Int64(clamping: try r.varint()), "span length")
            guard spans[k].length > 0 else { throw DecodeError("empty span at byte \(r.offset - 1)") }
        }
        var previousEnd: Int64 = 0
        for k in 0..<n {
            spans[k].seq = try u32(previousEnd &+ (try r.zigzag()), "seq")
            previousEnd = Int64(spans[k].seq) + Int64(spans[k].length)
        }
        for k in 0..<n where flags[k] & hasLeft != 0 && flags[k] & leftIsPrevious == 0 {
            spans[k].left = TextSequence.PackedChar(
                replica: try u32(Int64(clamping: try r.varint()), "replica index"), seq: try u32(Int64(spans[k].seq) + (try r.zigzag()), "seq"))
        }
        for k in 0..<n where flags[k] & hasRight != 0 && flags[k] & rightIsNext == 0 {
            spans[k].right = TextSequence.PackedChar(
                replica: try u32(Int64(clamping: try r.varint()), "replica index"), seq: try u32(Int64(spans[k].seq) + (try r.zigzag()), "seq"))
        }
        for k in 0..<n {
            if flags[k] & leftIsPrevious != 0 {
                guard k > 0 else { throw DecodeError("first span's left origin refers to a span before it") }
                spans[k].left = TextSequence.PackedChar(replica: spans[k - 1].replica, seq: spans[k - 1].seq + spans[k - 1].length - 1)
            }
            if flags[k] & rightIsNext != 0 {
                guard k + 1 < n else { throw DecodeError("last span's right origin refers to a span after it") }
                spans[k].right = TextSequence.PackedChar(replica: spans[k + 1].replica, seq: spans[k + 1].seq)
            }
        }
        let text = try r.string()
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) stray bytes after the text state") }
        guard let sequence = TextSequence(replicas: table, spans: spans, text: text.unicodeScalars) else {
            throw DecodeError("text state does not describe a text (an origin or character it does not hold)")
        }
        return sequence
    }
}

extension TextStateCodec {
    /// The edits that wait for characters a text has not received (``TextSequence/pendingEdits``),
    /// canonically: `count varint`, then each as `kind u8 · payload length varint · payload` (the
    /// payload of its op kind, with `field`), sorted by those bytes, duplicates once. Nil when
    /// nothing waits.
    public static func encodePending(_ edits: [TextEdit], field: String) -> [UInt8]? {
        guard !edits.isEmpty else { return nil }
        let encoded = Set(
            edits.map { edit -> [UInt8] in
                var payload = ByteWriter(capacity: 64)
                let kind = OpCodec.encode(field: field, edit, into: &payload)
                var item = ByteWriter(capacity: payload.bytes.count + 8)
                item.u8(kind)
                item.varint(UInt64(payload.bytes.count))
                item.raw(payload.bytes)
                return item.bytes
            }
        ).sorted { $0.lexicographicallyPrecedes($1) }
        var w = ByteWriter(capacity: encoded.reduce(8) { $0 + $1.count })
        w.varint(UInt64(encoded.count))
        for item in encoded { w.raw(item) }
        return w.bytes
    }

    public static func decodePending(_ bytes: [UInt8]) throws(DecodeError) -> [TextEdit] {
        var r = ByteReader(bytes)
        let n = try r.length(limit: r.remaining / 3)
        var edits: [TextEdit] = []
        for _ in 0..<n {
            let kind = try r.u8()
            guard kind == OpCodec.textInsertKind || kind == OpCodec.textDeleteKind else {
                throw DecodeError("waiting text edit of kind \(kind) at byte \(r.offset - 1)")
            }
            let length = try r.length(limit: r.remaining)
            var payload = ByteReader(Array(try r.raw(length)))
            edits.append(try OpCodec.decodeText(kind: kind, &payload).1)
            guard payload.isAtEnd else { throw DecodeError("stray bytes after a waiting text edit") }
        }
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) stray bytes after the waiting text edits") }
        return edits
    }
}
