import GRDB
import SyncModel
import SyncWire

/// The store's full-text index: one contentless FTS5 row per article field, so that editing a
/// title re-tokenizes the old and new title only, never the body.
///
/// `article_search(text)` with `content=''` and ``ArabicTokenizer``; row id = article row id × 4
/// + field (0 title, 1 summary, 2 body); a row exists exactly when the field is not empty.
/// Triggers on `articles` keep it in step: inserts and deletes of articles, and one
/// `AFTER UPDATE OF <field> … WHEN old.<field> IS NOT new.<field>` trigger per field that
/// deletes the old text from the index (FTS5's `'delete'` command, which tokenizes that one
/// field's old value) and inserts the new one.
///
/// What this relies on in SQLite: FTS5 contentless tables (`content=''`, `columnsize=0`), their
/// `'delete'` and `'delete-all'` commands, colocated tokens and `bm25()`, all present in SQLite
/// 3.40 (Debian 12's system library; Debian 13 ships 3.46). It does not use
/// `contentless_delete=1` (3.43+), which would spare tokenizing the old value of a field on an
/// edit. A contentless table cannot be scanned or read back: it can only be matched.
///
/// A search runs one FTS5 query per term, so that the words of a query may sit in different
/// fields; a phrase stays within one field (``rankedArticles(_:query:limit:includeTrash:)``).
///
/// ```swift
/// try SearchIndex.suspend(db)   // before deleting every article
/// …                              // rewrite the articles table
/// try SearchIndex.rebuild(db)   // index every article, triggers back
/// ```
enum SearchIndex {
    /// The `tokenize=` argument of migration v1's `articles_fts` (replaced by v4).
    static let tokenizeClause = ArabicTokenizer.name

    /// Field index (the low two bits of a row id) → `articles` column, and its weight in the rank.
    static let fields: [(column: String, weight: Double)] = [("title", 5), ("summary", 2), ("body", 1)]

    /// The table (v4 layout). Frozen once shipped: a new layout is a new migration.
    /// `columnsize=0`: no per-row size table, which bm25 would otherwise read once per matching
    /// row (two thirds of a common word's query time); bm25 then ranks without length
    /// normalisation, which the field weights make up for (a title hit outweighs any body).
    static let v4Table = "CREATE VIRTUAL TABLE article_search USING fts5(text, content='', columnsize=0, tokenize='\(ArabicTokenizer.name)')"

    /// The triggers (v4 layout).
    static var v4Triggers: [String] {
        let insert = fields.indices.map { insertRow(field: $0, from: "new") }.joined(separator: "\n")
        let delete = fields.indices.map { deleteRow(field: $0, from: "old") }.joined(separator: "\n")
        return [
            "CREATE TRIGGER article_search_insert AFTER INSERT ON articles BEGIN\n\(insert)\nEND",
            "CREATE TRIGGER article_search_delete AFTER DELETE ON articles BEGIN\n\(delete)\nEND",
        ]
            + fields.enumerated().map { i, field in
                """
                CREATE TRIGGER article_search_\(field.column) AFTER UPDATE OF \(field.column) ON articles
                WHEN old.\(field.column) IS NOT new.\(field.column) BEGIN
                \(deleteRow(field: i, from: "old"))
                \(insertRow(field: i, from: "new"))
                END
                """
            }
    }

    static var v4TriggerNames: [String] { ["insert", "delete"] + fields.map(\.column) }

    private static func insertRow(field: Int, from row: String) -> String {
        let column = fields[field].column
        return "INSERT INTO article_search(rowid, text) SELECT \(row).rowid * 4 + \(field), \(row).\(column) WHERE \(row).\(column) <> '';"
    }

    private static func deleteRow(field: Int, from row: String) -> String {
        let column = fields[field].column
        return """
            INSERT INTO article_search(article_search, rowid, text) SELECT 'delete', \(row).rowid * 4 + \(field), \(row).\(column) \
            WHERE \(row).\(column) <> '';
            """
    }

    /// Index every article's fields (the table must be empty).
    static let v4Fill = fields.indices.map { i in
        "INSERT INTO article_search(rowid, text) SELECT rowid * 4 + \(i), \(fields[i].column) FROM articles WHERE \(fields[i].column) <> ''"
    }

    /// Stops following the articles table (before a rebuild deletes every article): the triggers go.
    static func suspend(_ db: Database) throws {
        for name in v4TriggerNames { try db.execute(sql: "DROP TRIGGER IF EXISTS article_search_\(name)") }
    }

    /// Empties the index, indexes every article again, and (re)creates the triggers.
    static func rebuild(_ db: Database) throws {
        try suspend(db)
        try db.execute(sql: "INSERT INTO article_search(article_search) VALUES ('delete-all')")
        for sql in v4Fill { try db.execute(sql: sql) }
        for sql in v4Triggers { try db.execute(sql: sql) }
    }
}
