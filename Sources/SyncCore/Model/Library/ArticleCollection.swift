/// A folder of articles; collections nest.
public struct ArticleCollection: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var description: String?
    public var parent: String?
    public var trashed: Bool
    public var articleCount: Int

    public init(id: String, name: String, description: String? = nil, parent: String? = nil, trashed: Bool, articleCount: Int) {
        self.id = id
        self.name = name
        self.description = description
        self.parent = parent
        self.trashed = trashed
        self.articleCount = articleCount
    }
}
