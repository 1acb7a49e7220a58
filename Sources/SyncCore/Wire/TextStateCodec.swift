public import SyncModel

/// The canonical bytes of one text's merge state (``TextSequence/spans``): what a store keeps
/// per text field and a rebuild must reproduce byte for byte (Protocol.md, "Text state").
///
/// `version u8 (1) · replicas varint · replicas × 16 bytes (ascending) · spans varint ·
/// spans × (flags u8 · replica index varint · seq varint · length varint · [left] · [right]) ·
/// text string` — flags bit 0 deleted, bit 1 has left, bit 2 has right, bit 3 left is the last
/// character of the span before (not written), bit 4 right is the first character of the span
/// after (not written); an origin is `replica index varint · seq varint`; `text` is every
/// span's characters, tombstones included, one after the other.
public enum TextStateCodec {
    public static let version: UInt8 = 1

    static let deleted: UInt8 = 1
    static let hasLeft: UInt8 = 2
    static let hasRight: UInt8 = 4
    static let leftIsPrevious: UInt8 = 8
    static let rightIsNext: UInt8 = 16

    public static func encode(_ text: TextSequence) -> [UInt8] { encode(spans: text.spans) }

    public static func encode(spans: [TextSequence.Span]) -> [UInt8] {
        var replicas = Set<ReplicaID>()
        for span in spans {
            replicas.insert(span.id.replica)
            if let l = span.left { replicas.insert(l.replica) }
            if let r = span.right { replicas.insert(r.replica) }
        }
        let table = replicas.sorted()
        var index: [ReplicaID: UInt64] = [:]
        for (i, r) in table.enumerated() { index[r] = UInt64(i) }
        var w = ByteWriter(capacity: 64 + spans.count * 8)
        w.u8(version)
        w.varint(UInt64(table.count))
        for r in table { w.raw(r.bytes) }
        w.varint(UInt64(spans.count))
        var all = String.UnicodeScalarView()
        for (k, span) in spans.enumerated() {
            let previousLast = k > 0 ? CharID(replica: spans[k - 1].id.replica, seq: spans[k - 1].id.seq + UInt32(spans[k - 1].text.count) - 1) : nil
            let nextFirst = k + 1 < spans.count ? spans[k + 1].id : nil
            var flags: UInt8 = span.deleted ? deleted : 0
            if let left = span.left { flags |= hasLeft | (left == previousLast ? leftIsPrevious : 0) }
            if let right = span.right { flags |= hasRight | (right == nextFirst ? rightIsNext : 0) }
            w.u8(flags)
            w.varint(index[span.id.replica]!)
            w.varint(UInt64(span.id.seq))
            w.varint(UInt64(span.text.count))
            if let left = span.left, flags & leftIsPrevious == 0 {
                w.varint(index[left.replica]!)
                w.varint(UInt64(left.seq))
            }
            if let right = span.right, flags & rightIsNext == 0 {
                w.varint(index[right.replica]!)
                w.varint(UInt64(right.seq))
            }
            all.append(contentsOf: span.text)
        }
        w.string(String(all))
        return w.bytes
    }

    /// The spans back from their bytes; refused (with the reason) when the bytes are not a state
    /// this version wrote or do not describe a text.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> TextSequence {
        let spans = try decodeSpans(bytes)
        guard let text = TextSequence(spans: spans) else { throw DecodeError("text state names characters it does not hold") }
        return text
    }

    public static func decodeSpans(_ bytes: [UInt8]) throws(DecodeError) -> [TextSequence.Span] {
        var r = ByteReader(bytes)
        let v = try r.u8()
        guard v == version else { throw DecodeError("text state version \(v), this version reads \(version)") }
        let replicaCount = try r.length(limit: r.remaining / 16)
        var table: [ReplicaID] = []
        for _ in 0..<replicaCount { table.append(ReplicaID(bytes: Array(try r.raw(16)))!) }
        func replica(_ r: inout ByteReader) throws(DecodeError) -> ReplicaID {
            let i = try r.varint()
            guard i < UInt64(table.count) else { throw DecodeError("replica index \(i) of \(table.count) at byte \(r.offset - 1)") }
            return table[Int(i)]
        }
        let n = try r.length(limit: r.remaining / 4)
        struct Head {
            var flags: UInt8
            var id: CharID
            var length: Int
            var left: CharID?
            var right: CharID?
        }
        var heads: [Head] = []
        heads.reserveCapacity(n)
        for _ in 0..<n {
            let flags = try r.u8()
            guard flags & ~(deleted | hasLeft | hasRight | leftIsPrevious | rightIsNext) == 0 else {
                throw DecodeError("unknown span flags \(flags) at byte \(r.offset - 1)")
            }
            let id = CharID(replica: try replica(&r), seq: try OpCodec.decodeSeq(&r))
            let length = try r.varint()
            guard length > 0, UInt64(id.seq) + length <= UInt64(UInt32.max) else { throw DecodeError("span of length \(length) at byte \(r.offset)") }
            var head = Head(flags: flags, id: id, length: Int(length))
            if flags & hasLeft != 0, flags & leftIsPrevious == 0 { head.left = CharID(replica: try replica(&r), seq: try OpCodec.decodeSeq(&r)) }
            if flags & hasRight != 0, flags & rightIsNext == 0 { head.right = CharID(replica: try replica(&r), seq: try OpCodec.decodeSeq(&r)) }
            heads.append(head)
        }
        let text = Array(try r.string().unicodeScalars)
        guard r.isAtEnd else { throw DecodeError("\(r.remaining) stray bytes after the text state") }
        guard text.count == heads.reduce(0, { $0 + $1.length }) else { throw DecodeError("text state's characters do not match its spans") }
        var spans: [TextSequence.Span] = []
        spans.reserveCapacity(n)
        var offset = 0
        for (k, head) in heads.enumerated() {
            var left = head.left
            var right = head.right
            if head.flags & leftIsPrevious != 0 {
                guard k > 0 else { throw DecodeError("first span's left origin refers to a span before it") }
                left = CharID(replica: heads[k - 1].id.replica, seq: heads[k - 1].id.seq + UInt32(heads[k - 1].length) - 1)
            }
            if head.flags & rightIsNext != 0 {
                guard k + 1 < heads.count else { throw DecodeError("last span's right origin refers to a span after it") }
                right = heads[k + 1].id
            }
            spans.append(
                TextSequence.Span(
                    id: head.id, left: left, right: right, deleted: head.flags & deleted != 0,
                    text: Array(text[offset..<offset + head.length])))
            offset += head.length
        }
        return spans
    }
}
