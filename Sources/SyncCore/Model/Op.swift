/// What an op is about: an article, a collection, or an annotation (which always names its
/// article in `parent`, so every annotation op can be routed to its article).
public struct EntityRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Kind: UInt8, Sendable, Comparable, CaseIterable {
        case article = 1, collection = 2, annotation = 3
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
        public var name: String {
            switch self { case .article: "article"; case .collection: "collection"; case .annotation: "annotation" }
        }
    }

    public let kind: Kind
    public let id: String
    /// The article an annotation belongs to; empty for articles and collections.
    public let parent: String

    public init(_ kind: Kind, _ id: String, parent: String = "") {
        self.kind = kind
        self.id = id
        self.parent = parent
    }

    public static func article(_ id: String) -> EntityRef { EntityRef(.article, id) }
    public static func collection(_ id: String) -> EntityRef { EntityRef(.collection, id) }
    public static func annotation(_ id: String, article: String) -> EntityRef {
        EntityRef(.annotation, id, parent: article)
    }

    /// The article this entity belongs to, if any.
    public var articleID: String? {
        switch kind {
        case .article: id
        case .annotation: parent
        case .collection: nil
        }
    }

    public static func < (a: EntityRef, b: EntityRef) -> Bool {
        (a.kind, a.id, a.parent) < (b.kind, b.id, b.parent)
    }

    public var description: String { "\(kind.name) \(id)" }
}

/// A field value carried by an op.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var int: Int64? { if case .int(let i) = self { i } else { nil } }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .string(let s): s
        }
    }
}

/// One last-writer-wins field write. `prev` names the writes this one saw and replaces (the
/// field's winner, or every competing value when a conflict is resolved); a write that did not
/// see another is concurrent with it, and the loser becomes a conflict record.
public struct FieldWrite: Hashable, Sendable {
    public let field: String
    public let value: Value
    public let prev: [OpID]

    public init(_ field: String, _ value: Value, prev: [OpID] = []) {
        self.field = field
        self.value = value
        self.prev = prev
    }
}

/// The content of an op.
public enum OpBody: Hashable, Sendable {
    /// Last-writer-wins writes to one or more fields of an entity (creation is a write of all
    /// its fields).
    case assign(EntityRef, [FieldWrite])
    /// Add an element to an add-wins set (`tags` of an article, `members` of a collection).
    case setAdd(EntityRef, set: String, element: String)
    /// Remove the adds of `element` that the author had observed; a concurrent add survives.
    case setRemove(EntityRef, set: String, element: String, observed: [OpID])
    /// An op kind from a newer format: kept byte for byte and passed on, never dropped.
    case unknown(kind: UInt8, payload: [UInt8])

    public var entity: EntityRef? {
        switch self {
        case .assign(let e, _), .setAdd(let e, _, _), .setRemove(let e, _, _, _): e
        case .unknown: nil
        }
    }
}

/// One recorded change. Ops are the unit of sync; materialized state is a function of the set
/// of ops a store holds, whatever order they arrived in.
///
/// ```swift
/// let op = Op(id: OpID(replica: me, counter: 7), hlc: clock,
///             body: .assign(.article(id), [FieldWrite("title", .string("…"), prev: [old])]))
/// ```
public struct Op: Hashable, Sendable {
    public let id: OpID
    public let hlc: HLC
    public let body: OpBody
    /// The author's version vector when the op was made. Only carried where causality must be
    /// known exactly (moving an article to the trash), so that work the author had not seen is
    /// recognised as concurrent.
    public let context: VersionVector?

    public init(id: OpID, hlc: HLC, body: OpBody, context: VersionVector? = nil) {
        self.id = id
        self.hlc = hlc
        self.body = body
        self.context = context
    }

    public var stamp: Stamp { Stamp(hlc: hlc, op: id) }
}
