/// A folder of articles; collections nest.
public struct ArticleCollection: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var description: String?
    public var parent: String?
    public var trashed: Bool
    public var articleCount: Int

    public init(id: String, fields f: FieldValues, articleCount: Int) {
        self.id = id
        name = f.string(CollectionFields.name) ?? ""
        description = f.string(CollectionFields.description)
        parent = f.string(CollectionFields.parent)
        trashed = f.bool(CollectionFields.trashed)
        self.articleCount = articleCount
    }
}
