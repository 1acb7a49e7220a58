/// An article as a reporter captures it, before it has an id.
public struct ArticleDraft: Sendable, Equatable, Codable {
    public var url: String?
    public var title: String
    public var summary: String
    public var body: String
    public var byline: String?
    public var source: String?
    public var publishedAt: String?
    public var language: String?

    public init(
        url: String? = nil, title: String, summary: String = "", body: String, byline: String? = nil,
        source: String? = nil, publishedAt: String? = nil, language: String? = nil
    ) {
        self.url = url; self.title = title; self.summary = summary; self.body = body; self.byline = byline
        self.source = source; self.publishedAt = publishedAt; self.language = language
    }

    /// A draft of the content fields in `f` (``ArticleFields/editable``).
    public init(fields f: FieldValues) {
        self.init(
            url: f.string(ArticleFields.url), title: f.string(ArticleFields.title) ?? "",
            summary: f.string(ArticleFields.summary) ?? "", body: f.string(ArticleFields.body) ?? "",
            byline: f.string(ArticleFields.byline), source: f.string(ArticleFields.source),
            publishedAt: f.string(ArticleFields.publishedAt), language: f.string(ArticleFields.language))
    }

    /// The draft's content fields (``ArticleFields``), nil ones left out.
    public var fields: FieldValues {
        var f = FieldValues()
        f[ArticleFields.url] = url.map(Value.string)
        f[ArticleFields.title] = .string(title)
        f[ArticleFields.summary] = .string(summary)
        f[ArticleFields.body] = .string(body)
        f[ArticleFields.byline] = byline.map(Value.string)
        f[ArticleFields.source] = source.map(Value.string)
        f[ArticleFields.publishedAt] = publishedAt.map(Value.string)
        f[ArticleFields.language] = language.map(Value.string)
        return f
    }

    /// The id this draft gets: from its canonical URL, else from its normalised text.
    public var id: String { ArticleIdentity.id(url: url, title: title, body: body) }
}

/// An article as the library holds it: its content (what was captured and what reporters edit,
/// readable directly: `article.title`) and its place in the library — provenance, reading
/// state, tags, collections, annotations. The typed view of ``ArticleFields``.
@dynamicMemberLookup
public struct Article: Sendable, Equatable, Codable {
    public var id: String
    public var content: ArticleDraft
    public var capturedAt: Int64?
    public var capturedBy: String?
    public var read: Bool
    public var starred: Bool
    public var trashed: Bool
    /// Set when the article was trashed while someone else worked on it (rule 3).
    public var trashConflict: String?
    public var tags: [String]
    /// Collection names.
    public var collections: [String]
    public var annotations: [Annotation]

    public init(
        id: String, fields f: FieldValues, trashConflict: String? = nil, tags: [String] = [],
        collections: [String] = [], annotations: [Annotation] = []
    ) {
        self.id = id
        content = ArticleDraft(fields: f)
        capturedAt = f.int(ArticleFields.capturedAt)
        capturedBy = f.string(ArticleFields.capturedBy)
        read = f.bool(ArticleFields.read)
        starred = f.bool(ArticleFields.starred)
        trashed = f.bool(ArticleFields.trashed)
        self.trashConflict = trashConflict
        self.tags = tags
        self.collections = collections
        self.annotations = annotations
    }

    public subscript<T>(dynamicMember keyPath: WritableKeyPath<ArticleDraft, T>) -> T {
        get { content[keyPath: keyPath] }
        set { content[keyPath: keyPath] = newValue }
    }

    enum CodingKeys: String, CodingKey {
        case id, capturedAt, capturedBy, read, starred, trashed, trashConflict, tags, collections, annotations
    }

    /// One flat JSON object (`synccli show --json`): the content's keys beside the others.
    public init(from decoder: any Decoder) throws {
        content = try ArticleDraft(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        capturedAt = try c.decodeIfPresent(Int64.self, forKey: .capturedAt)
        capturedBy = try c.decodeIfPresent(String.self, forKey: .capturedBy)
        (read, starred, trashed) = (
            try c.decode(Bool.self, forKey: .read), try c.decode(Bool.self, forKey: .starred),
            try c.decode(Bool.self, forKey: .trashed)
        )
        trashConflict = try c.decodeIfPresent(String.self, forKey: .trashConflict)
        (tags, collections) = (try c.decode([String].self, forKey: .tags), try c.decode([String].self, forKey: .collections))
        annotations = try c.decode([Annotation].self, forKey: .annotations)
    }

    public func encode(to encoder: any Encoder) throws {
        try content.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encodeIfPresent(capturedAt, forKey: .capturedAt)
        try c.encodeIfPresent(capturedBy, forKey: .capturedBy)
        try c.encode(read, forKey: .read)
        try c.encode(starred, forKey: .starred)
        try c.encode(trashed, forKey: .trashed)
        try c.encodeIfPresent(trashConflict, forKey: .trashConflict)
        try c.encode(tags, forKey: .tags)
        try c.encode(collections, forKey: .collections)
        try c.encode(annotations, forKey: .annotations)
    }
}

extension Article {
    /// What a reader is told about an article besides its text, as `label: value` lines
    /// (`synccli show`, the Markdown export).
    public var metadata: [(label: String, value: String)] {
        var lines = [("id", id)]
        for (label, value) in [
            ("url", content.url), ("source", content.source), ("byline", content.byline),
            ("published", content.publishedAt), ("language", content.language),
        ] {
            if let value { lines.append((label, value)) }
        }
        if !tags.isEmpty { lines.append(("tags", tags.joined(separator: ", "))) }
        if !collections.isEmpty { lines.append(("collections", collections.joined(separator: ", "))) }
        return lines
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

    public init(id: String, fields f: FieldValues, tags: [String]) {
        self.id = id
        title = f.string(ArticleFields.title) ?? ""
        source = f.string(ArticleFields.source)
        self.tags = tags
        trashed = f.bool(ArticleFields.trashed)
        starred = f.bool(ArticleFields.starred)
        read = f.bool(ArticleFields.read)
    }
}
