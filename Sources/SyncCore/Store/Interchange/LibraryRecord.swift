public import SyncModel
import SyncWire

/// One line of the JSON Lines interchange format (`synccli import` / `export --format jsonl`).
/// Documented in README.md ("Import format"). Unknown keys are ignored; `type` defaults to
/// `article`.
public struct LibraryRecord: Codable, Sendable, Equatable {
    public var type: String?
    public var id: String?
    // article
    public var url: String?
    public var title: String?
    public var summary: String?
    public var body: String?
    public var byline: String?
    public var source: String?
    public var published_at: String?
    public var language: String?
    public var captured_at: Int64?
    public var captured_by: String?
    public var read: Bool?
    public var starred: Bool?
    public var trashed: Bool?
    public var tags: [String]?
    public var collections: [String]?
    public var annotations: [AnnotationRecord]?
    // collection
    public var name: String?
    public var parent: String?
    public var description: String?

    public init() {}

    public struct AnnotationRecord: Codable, Sendable, Equatable {
        public var id: String?
        public var kind: String
        public var start: Int?
        public var end: Int?
        public var exact: String?
        public var prefix: String?
        public var suffix: String?
        public var note: String?
        public var color: String?
        public var author: String?
        public var created_at: Int64?
    }

    public var isCollection: Bool { type == "collection" }
}
