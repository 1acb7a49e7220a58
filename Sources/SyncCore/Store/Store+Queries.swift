import Foundation
import GRDB
public import SyncModel
import SyncWire

extension Store {
    /// Finds the article whose id is `ref` or starts with `ref` (at least 4 characters), like a
    /// git abbreviated hash.
    public func resolveArticleID(_ ref: String) throws -> String {
        try resolve(ref, table: "articles", what: "article", hint: "synccli list")
    }

    public func resolveAnnotationID(_ ref: String) throws -> String {
        try resolve(ref, table: "annotations", what: "annotation", hint: "synccli show ARTICLE")
    }

    /// A collection by id, id prefix, or exact name.
    public func resolveCollectionID(_ ref: String) throws -> String {
        let byName = try read { db in
            try String.fetchAll(db, sql: "SELECT id FROM collections WHERE name = ? AND trashed = 0", arguments: [ref])
        }
        if byName.count == 1 { return byName[0] }
        if byName.count > 1 {
            throw StoreError(.invalidInput, "several collections are named '\(ref)': use its id (see `synccli collection list`)")
        }
        return try resolve(ref, table: "collections", what: "collection", hint: "synccli collection list")
    }

    private func resolve(_ ref: String, table: String, what: String, hint: String) throws -> String {
        let ref = ref.trimmingCharacters(in: .whitespaces).lowercased()
        guard ref.count >= 4, ref.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw StoreError(.notFound, "no \(what) '\(ref)' (ids are hex; see `\(hint)`)")
        }
        let matches = try read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM \(table) WHERE id >= ? AND id < ? LIMIT 2",
                arguments: [ref, ref + "\u{10FFFF}"])
        }
        switch matches.count {
        case 1: return matches[0]
        case 0: throw StoreError(.notFound, "no \(what) '\(ref)' in this library (see `\(hint)`)")
        default: throw StoreError(.invalidInput, "'\(ref)' matches several \(what)s: give more characters of the id")
        }
    }

    /// The whole article: fields, tags, collections and live annotations.
    public func article(_ id: String) throws -> Article {
        try read { db in
            let a = try ArticleRows(id, db)
            return Article(
                id: id, fields: FieldValues(row: a.row, ArticleFields.all), trashConflict: a.row["trash_conflict"],
                tags: a.tags, collections: a.collections.map(\.name).sorted(), annotations: a.annotations.map(Self.annotation))
        }
    }

    static func annotation(_ row: Row) -> Annotation {
        var annotation = Annotation(id: row["id"], article: row["article"], fields: FieldValues(row: row, AnnotationFields.all))
        annotation.detached = row["detached"]
        return annotation
    }

    /// Articles, newest capture first. `trash` lists the trash instead of the library.
    public func listArticles(
        collection: String? = nil, tag: String? = nil, trash: Bool = false,
        limit: Int? = nil
    ) throws -> [ArticleSummary] {
        try read { db in
            var sql = "SELECT a.id, a.title, a.source, a.trashed, a.starred, a.read FROM articles a WHERE a.trashed = ?"
            var arguments: StatementArguments = [trash]
            if let collection {
                sql += " AND a.id IN (SELECT article FROM memberships WHERE collection = ?)"
                arguments += [collection]
            }
            if let tag {
                sql += " AND a.id IN (SELECT article FROM tags WHERE tag = ?)"
                arguments += [Tag.normalize(tag)]
            }
            sql += " ORDER BY a.captured_at DESC, a.id"
            if let limit { sql += " LIMIT \(limit)" }
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            return try rows.map { row in
                let id: String = row["id"]
                let tags = try String.fetchAll(db, sql: "SELECT tag FROM tags WHERE article = ? ORDER BY tag", arguments: [id])
                return ArticleSummary(id: id, fields: FieldValues(row: row, ArticleFields.all), tags: tags)
            }
        }
    }

    /// Collections with their article counts, parents before children.
    public func collections(includeDeleted: Bool = false) throws -> [ArticleCollection] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.*, (SELECT count(*) FROM memberships m JOIN articles a ON a.id = m.article
                                 WHERE m.collection = c.id AND a.trashed = 0) AS n
                    FROM collections c WHERE c.trashed = 0 OR ? ORDER BY c.name, c.id
                    """, arguments: [includeDeleted]
            ).map { row in
                ArticleCollection(id: row["id"], fields: FieldValues(row: row, CollectionFields.all), articleCount: row["n"])
            }
        }
    }

    /// Counts for `status`.
    public func counts() throws -> [String: Int] {
        try read { db in
            var result: [String: Int] = [:]
            for (key, sql) in [
                ("articles", "SELECT count(*) FROM articles WHERE trashed = 0"),
                ("trashed", "SELECT count(*) FROM articles WHERE trashed = 1"),
                ("collections", "SELECT count(*) FROM collections WHERE trashed = 0"),
                ("annotations", "SELECT count(*) FROM annotations WHERE removed = 0"),
                ("tags", "SELECT count(DISTINCT tag) FROM tags"),
                ("ops", "SELECT count(*) FROM ops"),
            ] { result[key] = try Int.fetchOne(db, sql: sql) ?? 0 }
            return result
        }
    }

    /// Every materialized and merge table as sorted text: two replicas that hold the same set of
    /// ops produce byte-identical dumps.
    public func canonicalDump() throws -> String {
        try read { db in
            var out = ""
            for (table, order) in [
                ("articles", "id"), ("tags", "article, tag"), ("collections", "id"), ("memberships", "collection, article"),
                ("annotations", "id"), ("registers", "kind, entity, field, replica, counter"),
                ("set_entries", "kind, entity, name, replica, counter"), ("text_states", "kind, entity, field"),
            ] {
                out += "## \(table)\n"
                let columns = try db.columns(in: table).map(\.name).filter { $0 != "rowid" }
                let select = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
                for line in try String.fetchAll(db, sql: "SELECT \(select) FROM \(table) ORDER BY \(order)") {
                    out += line + "\n"
                }
            }
            return out
        }
    }
}

/// An article's row and what hangs off it (tags, live collections, live annotations), read in
/// one transaction: what `show` and the JSON Lines export both need.
struct ArticleRows {
    let row: Row
    let tags: [String]
    let collections: [(id: String, name: String)]
    /// In reading order: by position, then creation.
    let annotations: [Row]

    init(_ id: String, _ db: Database) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM articles WHERE id = ?", arguments: [id]) else {
            throw StoreError(.notFound, "no article \(id) in this library (see `synccli list`)")
        }
        self.row = row
        tags = try String.fetchAll(db, sql: "SELECT tag FROM tags WHERE article = ? ORDER BY tag", arguments: [id])
        collections = try Row.fetchAll(
            db,
            sql: """
                SELECT c.id, c.name FROM memberships m JOIN collections c ON c.id = m.collection
                WHERE m.article = ? AND c.trashed = 0
                """, arguments: [id]
        ).map { ($0["id"], $0["name"]) }
        annotations = try Row.fetchAll(
            db,
            sql: """
                SELECT * FROM annotations WHERE article = ? AND removed = 0 ORDER BY coalesce(start, -1), created_at, id
                """, arguments: [id])
    }
}
