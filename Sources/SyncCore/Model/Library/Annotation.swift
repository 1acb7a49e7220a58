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
    /// A highlight whose every character was deleted by an edit of the body: `start` = `end` is
    /// where they were, `exact` what they said.
    public var detached = false

    public init(id: String, article: String, fields f: FieldValues) {
        self.id = id
        self.article = article
        kind = Kind(rawValue: f.string(AnnotationFields.kind) ?? "") ?? .note
        start = f.int(AnnotationFields.start).map { Int($0) }
        end = f.int(AnnotationFields.end).map { Int($0) }
        exact = f.string(AnnotationFields.exact)
        prefix = f.string(AnnotationFields.prefix)
        suffix = f.string(AnnotationFields.suffix)
        note = f.string(AnnotationFields.note)
        color = f.string(AnnotationFields.color)
        author = f.string(AnnotationFields.author)
        createdAt = f.int(AnnotationFields.createdAt)
    }
}
