/// What an op is about: an article, a collection, an annotation (which always names its article
/// in `parent`), or an entity of a kind a newer version defines.
///
/// Every op is filed under its **owning article** (``articleID``): the entity itself for an
/// article, else `parent` when it is not empty. That is what rule 3 (the trash) needs, and it is
/// known from the op's envelope alone, so a store that does not know an op or entity kind still
/// files it where a newer store would.
///
/// ```swift
/// EntityRef.annotation("0190…", article: "3f2a…").articleID   // "3f2a…"
/// EntityRef.collection("0190…").articleID                      // nil
/// ```
public struct EntityRef: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The kind of entity, as the one byte the wire carries. Kinds this version does not know are
    /// kept as their number (stored, merged, relayed; not materialized).
    public struct Kind: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let article = Kind(rawValue: 1)
        public static let collection = Kind(rawValue: 2)
        public static let annotation = Kind(rawValue: 3)
        /// The kinds this version materializes.
        public static let known: [Kind] = [.article, .collection, .annotation]

        public var isKnown: Bool { Self.known.contains(self) }

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }

        public var name: String {
            switch self {
            case .article: "article"
            case .collection: "collection"
            case .annotation: "annotation"
            default: "entity kind \(rawValue)"
            }
        }

        public var description: String { name }
    }

    public let kind: Kind
    public let id: String
    /// The article the entity belongs to (an annotation's article); empty for articles and
    /// collections.
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

    /// The article this entity belongs to, if any: itself for an article, else `parent`.
    public var articleID: String? {
        if kind == .article { return id }
        return parent.isEmpty ? nil : parent
    }

    public static func < (a: EntityRef, b: EntityRef) -> Bool {
        (a.kind, a.id, a.parent) < (b.kind, b.id, b.parent)
    }

    public var description: String { "\(kind.name) \(id)" }
}
