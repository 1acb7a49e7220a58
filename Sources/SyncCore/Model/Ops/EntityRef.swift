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
