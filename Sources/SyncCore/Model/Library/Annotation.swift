/// A highlight or a note. Highlights are anchored W3C Web Annotation style: the quoted text with
/// some context (TextQuoteSelector) and its position in Unicode scalars of the NFC body
/// (TextPositionSelector).
public struct Annotation: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case highlight, note }
    public var id: String
    public var article: String
    public var kind: Kind
    public var start: Int?
    public var end: Int?
    public var exact: String?
    public var prefix: String?
    public var suffix: String?
    public var note: String?
    public var color: String?
    public var author: String?
    public var createdAt: Int64?

    public init(id: String, article: String, kind: Kind, start: Int? = nil, end: Int? = nil, exact: String? = nil, prefix: String? = nil, suffix: String? = nil, note: String? = nil, color: String? = nil, author: String? = nil, createdAt: Int64? = nil) {
        self.id = id
        self.article = article
        self.kind = kind
        self.start = start
        self.end = end
        self.exact = exact
        self.prefix = prefix
        self.suffix = suffix
        self.note = note
        self.color = color
        self.author = author
        self.createdAt = createdAt
    }
}
