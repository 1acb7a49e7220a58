/// A highlight bound to characters, not to offsets: from its first highlighted character to its
/// last (Peritext's rule for comments). Text typed at its edges stays outside, text inserted
/// between them is inside; deleting some of its characters shrinks it to those that survive,
/// and it never moves to another occurrence of the same words; deleting all of them leaves it
/// *detached* at the place they were.
public struct TextAnchor: Hashable, Sendable, Codable {
    public let first: CharID
    public let last: CharID

    public init(first: CharID, last: CharID) {
        self.first = first
        self.last = last
    }
}

extension CharID: Codable {
    enum CodingKeys: String, CodingKey { case replica, seq }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hex = try c.decode(String.self, forKey: .replica)
        guard let replica = ReplicaID(hex: hex) else {
            throw DecodingError.dataCorruptedError(forKey: .replica, in: c, debugDescription: "not a replica id: \(hex)")
        }
        self.init(replica: replica, seq: try c.decode(UInt32.self, forKey: .seq))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(replica.description, forKey: .replica)
        try c.encode(seq, forKey: .seq)
    }
}

extension TextSequence {
    /// Where an anchor is in the visible text now.
    public enum AnchorPlace: Hashable, Sendable {
        /// Covers these visible characters (at least one survives).
        case covering(Range<Int>)
        /// Every character it covered is deleted; it sits at this visible position.
        case detached(at: Int)
    }

    /// The anchor of the visible characters `range` (nil for an empty or out-of-range range).
    public func anchor(for range: Range<Int>) -> TextAnchor? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= count,
            let first = location(visibleIndex: range.lowerBound), let last = location(visibleIndex: range.upperBound - 1)
        else { return nil }
        return TextAnchor(first: charID(id(at: first))!, last: charID(id(at: last))!)
    }

    /// Where `anchor` is now; nil when the text does not hold its characters (yet).
    public func place(of anchor: TextAnchor) -> AnchorPlace? {
        guard let first = packed(anchor.first), let last = packed(anchor.last), first != Self.none, last != Self.none,
            let firstLoc = locate(id: first), let lastLoc = locate(id: last)
        else { return nil }
        let start = visibleBefore(firstLoc)
        let run = chunks[lastLoc.chunk].runs[lastLoc.run]
        let end = visibleBefore(lastLoc) + (run.deleted ? 0 : 1)
        // A last character before the first (the text was reordered by concurrent edits) covers
        // nothing: the anchor is detached where its first character is.
        return end > start ? .covering(start..<end) : .detached(at: start)
    }

    /// Visible characters before the character at `loc`.
    func visibleBefore(_ loc: Location) -> Int {
        var n = 0
        for c in 0..<loc.chunk { n += chunks[c].visible }
        let runs = chunks[loc.chunk].runs
        for r in 0..<loc.run { n += runs[r].visible }
        return n + (runs[loc.run].deleted ? 0 : Int(loc.offset))
    }
}

extension TextAnchor {
    /// As an annotation's `anchor` field stores it: `REPLICA.SEQ-REPLICA.SEQ` (32 hex digits, a
    /// dot, the decimal seq; first character, then last).
    public var encoded: String { "\(first.replica).\(first.seq)-\(last.replica).\(last.seq)" }

    /// The anchor of an `anchor` field's value; nil when it is not of that form.
    public init?(encoded: String) {
        let ends = encoded.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2 else { return nil }
        func char(_ s: Substring) -> CharID? {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let replica = ReplicaID(hex: String(parts[0])), let seq = UInt32(parts[1]) else { return nil }
            return CharID(replica: replica, seq: seq)
        }
        guard let first = char(ends[0]), let last = char(ends[1]) else { return nil }
        self.init(first: first, last: last)
    }
}
