/// The identity of one character of a text: the replica that typed it and its sequence number
/// among the characters that replica typed into this text (0, 1, 2 … per replica and text).
/// A character keeps its id for ever, whatever is inserted around it, which is what lets edits,
/// deletions and highlights name the characters they mean (Protocol.md, "Text ops").
public struct CharID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let replica: ReplicaID
    public let seq: UInt32

    public init(replica: ReplicaID, seq: UInt32) {
        self.replica = replica
        self.seq = seq
    }

    public static func < (a: CharID, b: CharID) -> Bool {
        a.replica == b.replica ? a.seq < b.seq : a.replica < b.replica
    }

    public var description: String { "\(replica.short).\(seq)" }
}

/// Consecutive characters of one replica: `seq ..< seq + count`.
public struct CharRange: Hashable, Sendable, CustomStringConvertible {
    public let replica: ReplicaID
    public let seq: UInt32
    public let count: UInt32

    public init(replica: ReplicaID, seq: UInt32, count: UInt32) {
        self.replica = replica
        self.seq = seq
        self.count = count
    }

    public var first: CharID { CharID(replica: replica, seq: seq) }

    public var description: String { "\(replica.short).\(seq)+\(count)" }
}

/// Inserting a run of characters between two characters that were neighbours when the author
/// typed it. The characters get the ids `id.seq`, `id.seq + 1` … of `id.replica`. `left` and
/// `right` are nil at the start and the end of the text.
public struct TextInsert: Hashable, Sendable {
    public let id: CharID
    public let left: CharID?
    public let right: CharID?
    public let text: [Unicode.Scalar]

    public init(id: CharID, left: CharID?, right: CharID?, text: [Unicode.Scalar]) {
        self.id = id
        self.left = left
        self.right = right
        self.text = text
    }

    public var range: CharRange { CharRange(replica: id.replica, seq: id.seq, count: UInt32(text.count)) }
}

/// Deleting characters by id. Deleting twice, or a character someone else deleted too, is the
/// same as deleting once.
public struct TextDelete: Hashable, Sendable {
    public let ranges: [CharRange]

    public init(ranges: [CharRange]) { self.ranges = ranges }
}

/// One change to a text: what an op of kind `text.insert` or `text.delete` carries.
public enum TextEdit: Hashable, Sendable {
    case insert(TextInsert)
    case delete(TextDelete)
}
