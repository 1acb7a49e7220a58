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

    public init(id: String, url: String? = nil, title: String, summary: String, body: String, byline: String? = nil, source: String? = nil, publishedAt: String? = nil, language: String? = nil, capturedAt: Int64? = nil, capturedBy: String? = nil, read: Bool, starred: Bool, trashed: Bool, trashConflict: String? = nil, tags: [String], collections: [String], annotations: [Annotation]) {
        self.id = id
        self.url = url
        self.title = title
        self.summary = summary
        self.body = body
        self.byline = byline
        self.source = source
        self.publishedAt = publishedAt
        self.language = language
        self.capturedAt = capturedAt
        self.capturedBy = capturedBy
        self.read = read
        self.starred = starred
        self.trashed = trashed
        self.trashConflict = trashConflict
        self.tags = tags
        self.collections = collections
        self.annotations = annotations
    }
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

    public init(id: String, title: String, source: String? = nil, tags: [String], trashed: Bool, starred: Bool, read: Bool) {
        self.id = id
        self.title = title
        self.source = source
        self.tags = tags
        self.trashed = trashed
        self.starred = starred
        self.read = read
    }
}
