/// An article as a reporter captures it, before it has an id.
public struct ArticleDraft: Sendable, Equatable {
    public var url: String?
    public var title: String
    public var summary: String
    public var body: String
    public var byline: String?
    public var source: String?
    public var publishedAt: String?
    public var language: String?

    public init(url: String? = nil, title: String, summary: String = "", body: String, byline: String? = nil,
                source: String? = nil, publishedAt: String? = nil, language: String? = nil) {
        self.url = url; self.title = title; self.summary = summary; self.body = body; self.byline = byline
        self.source = source; self.publishedAt = publishedAt; self.language = language
    }

    /// The id this draft gets: from its canonical URL, else from its normalised text.
    public var id: String { ArticleIdentity.id(url: url, title: title, body: body) }
}

/// An article as the library holds it.
public struct Article: Sendable, Equatable, Codable {
    public var id: String
    public var url: String?
    public var title: String
    public var summary: String
    public var body: String
    public var byline: String?
    public var source: String?
    public var publishedAt: String?
    public var language: String?
    public var capturedAt: Int64?
    public var capturedBy: String?
    public var read: Bool
    public var starred: Bool
    public var trashed: Bool
    /// Set when the article was trashed while someone else worked on it (rule 3).
    public var trashConflict: String?
    public var tags: [String]
    public var collections: [String]
    public var annotations: [Annotation]
}

/// A line of a listing.
public struct ArticleSummary: Sendable, Equatable, Codable {
    public var id: String
    public var title: String
    public var source: String?
    public var tags: [String]
    public var trashed: Bool
    public var starred: Bool
    public var read: Bool
}

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
}

/// A folder of articles; collections nest.
public struct ArticleCollection: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var description: String?
    public var parent: String?
    public var trashed: Bool
    public var articleCount: Int
}
