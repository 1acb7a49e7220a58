import Foundation
import GRDB
public import SyncModel
import SyncWire

extension Store {
    /// Adds a captured article. Capturing a story that is already in the library (same canonical
    /// URL, or same text) does not duplicate it: its tags are added to the existing article.
    /// Returns the id and whether the article is new.
    @discardableResult
    public func addArticle(_ draft: ArticleDraft, tags: [String] = [], capturedAt: Int64? = nil) throws -> (id: String, created: Bool) {
        try Self.validate(draft)
        let name = try self.name()
        let now = Int64(self.now())
        let tags = try Self.normalizedTags(tags)
        return try local { w in
            try Self.emitArticle(&w, draft, tags: tags, capturedAt: capturedAt ?? now, capturedBy: name)
        }
    }

    /// The ops of one capture: the article's fields if it is new, and the tags it lacks.
    static func emitArticle(
        _ w: inout LocalWriter, _ draft: ArticleDraft, tags: [String], capturedAt: Int64,
        capturedBy: String
    ) throws -> (id: String, created: Bool) {
        let id = draft.id
        // Ask the merge state, not the articles table: within one import batch the row of an
        // article captured earlier in the same transaction is not materialized yet.
        let created = try w.register(.article(id), ArticleFields.title.name).winner == nil
        let entity = EntityRef.article(id)
        if created {
            var content = draft.fields
            content[ArticleFields.body] = .string(draft.body.nfc)
            if let url = draft.url { content[ArticleFields.url] = .string(ArticleIdentity.canonicalURL(url) ?? url) }
            content[ArticleFields.capturedAt] = .int(capturedAt)
            content[ArticleFields.capturedBy] = .string(capturedBy)
            try w.emit(.assign(entity, ArticleFields.all.compactMap { field in content[field].map { FieldWrite(field.name, $0) } }))
        }
        let present = Set(try w.set(entity, "tags").elements)
        for tag in tags where !present.contains(tag) {
            try w.emit(.setAdd(entity, set: "tags", element: tag))
        }
        return (id, created)
    }

    static func validate(_ draft: ArticleDraft) throws {
        if draft.title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw StoreError(.invalidInput, "the article has no title: give one with --title or as the first line")
        }
        if let url = draft.url, ArticleIdentity.canonicalURL(url) == nil {
            throw StoreError(.invalidInput, "'\(url)' is not an absolute http(s) URL")
        }
    }

    static func normalizedTags(_ tags: [String]) throws -> [String] {
        let normalized = tags.map(Tag.normalize)
        if normalized.contains(where: \.isEmpty) { throw StoreError(.invalidInput, "a tag cannot be empty") }
        var seen = Set<String>()
        return normalized.filter { seen.insert($0).inserted }
    }

    static func articleExists(_ id: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM articles WHERE id = ?", arguments: [id]) != nil
    }

    /// Refuses unknown articles, and articles in the trash unless `allowTrashed`.
    static func requireArticle(_ id: String, _ db: Database, allowTrashed: Bool = false) throws {
        guard let trashed = try Bool.fetchOne(db, sql: "SELECT trashed FROM articles WHERE id = ?", arguments: [id]) else {
            throw StoreError(.notFound, "no article \(id) in this library (see `synccli list`)")
        }
        if trashed && !allowTrashed {
            throw StoreError(.trashed, "article \(id) is in the trash: `synccli restore \(id)` first")
        }
    }

    /// Edits fields of an article: any of ``ArticleFields/editable``. The body merges character by
    /// character (only the changed runs are sent); the other fields are last writer wins (see
    /// `conflicts`). A body identical to the current one changes nothing.
    public func editArticle(_ id: String, _ changes: [(Field, String)]) throws {
        guard !changes.isEmpty else { throw StoreError(.invalidInput, "nothing to edit: give at least one field") }
        for (field, value) in changes {
            guard ArticleFields.editable.contains(field) else {
                throw StoreError(
                    .invalidInput,
                    "\(field.name) is not a field a reporter edits (one of \(ArticleFields.editable.map(\.name).joined(separator: ", ")))")
            }
            if field == ArticleFields.title && value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw StoreError(.invalidInput, "the title cannot be empty")
            }
            if field == ArticleFields.url && ArticleIdentity.canonicalURL(value) == nil {
                throw StoreError(.invalidInput, "'\(value)' is not an absolute http(s) URL")
            }
        }
        try local { w in
            try Self.requireArticle(id, w.db)
            let entity = EntityRef.article(id)
            var writes: [FieldWrite] = []
            for (field, value) in changes {
                if TextFields.contains(.article, field.name) {
                    try w.editText(entity, field, to: value.nfc)  // character edits, not a whole value
                } else {
                    writes.append(try w.write(entity, field.name, .string(value)))
                }
            }
            if !writes.isEmpty { try w.emit(.assign(entity, writes)) }
        }
    }

    /// Marks an article read/unread or starred/unstarred (``ArticleFields/read``, ``ArticleFields/starred``).
    public func setFlag(_ flag: Field, _ value: Bool, article id: String) throws {
        precondition(flag == ArticleFields.read || flag == ArticleFields.starred)
        try local { w in
            try Self.requireArticle(id, w.db, allowTrashed: true)
            try w.emit(.assign(.article(id), [try w.write(.article(id), flag.name, .bool(value))]))
        }
    }

    /// Moves an article to the trash. The op carries what this replica has seen, so work done
    /// elsewhere concurrently is recognised and kept (rule 3).
    public func trash(_ id: String) throws {
        try local { w in
            try Self.requireArticle(id, w.db)
            let seen = try OpLog.versionVector(in: w.db)
            try w.emit(.assign(.article(id), [try w.write(.article(id), ArticleFields.trashed.name, .bool(true))]), context: seen)
        }
    }

    public func restore(_ id: String) throws {
        try local { w in
            try Self.requireArticle(id, w.db, allowTrashed: true)
            guard try w.register(.article(id), ArticleFields.trashed.name).winner?.value == .bool(true) else {
                throw StoreError(.invalidInput, "article \(id) is not in the trash")
            }
            try w.emit(.assign(.article(id), [try w.write(.article(id), ArticleFields.trashed.name, .bool(false))]))
        }
    }

    public func addTags(_ tags: [String], to id: String) throws {
        let tags = try Self.normalizedTags(tags)
        try local { w in
            try Self.requireArticle(id, w.db)
            // Always a new add, even for a tag already present: that is what lets a deliberate
            // re-add survive a colleague's concurrent remove (add wins).
            for tag in tags {
                try w.emit(.setAdd(.article(id), set: "tags", element: tag))
            }
        }
    }

    /// Removes tags: only the adds this replica has seen, so a colleague's concurrent re-add
    /// survives (add-wins).
    public func removeTags(_ tags: [String], from id: String) throws {
        let tags = try Self.normalizedTags(tags)
        try local { w in
            try Self.requireArticle(id, w.db, allowTrashed: true)
            let set = try w.set(.article(id), "tags")
            for tag in tags {
                let observed = set.liveAdds(of: tag)
                if observed.isEmpty { throw StoreError(.notFound, "article \(id) has no tag '\(tag)'") }
                try w.emit(.setRemove(.article(id), set: "tags", element: tag, observed: observed))
            }
        }
    }
}
