import Foundation
import GRDB
import SyncModel
import SyncWire

/// One search result.
public struct SearchHit: Sendable, Equatable, Codable {
    public var id: String
    public var title: String
    /// The best matching passage, matches wrapped in `[` `]`.
    public var snippet: String
    /// bm25 score: lower is better.
    public var rank: Double
}

extension Store {
    /// Full-text search over titles, leads and bodies with Arabic normalisation and light
    /// stemming; results ranked by bm25 (title weighted highest), trashed articles excluded.
    public func search(_ query: String, limit: Int = 20, includeTrash: Bool = false) throws -> [SearchHit] {
        guard let match = SearchIndex.matchExpression(query) else {
            throw StoreError(.invalidInput, "nothing to search for in '\(query)'")
        }
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.id, a.title,
                           snippet(articles_fts, -1, '[', ']', '…', 12) AS snippet,
                           bm25(articles_fts, 5.0, 2.0, 1.0) AS rank
                    FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid
                    WHERE articles_fts MATCH ? AND (a.trashed = 0 OR ?)
                    ORDER BY rank LIMIT ?
                    """, arguments: [match, includeTrash, limit]
            ).map { row in
                SearchHit(id: row["id"], title: row["title"], snippet: row["snippet"], rank: row["rank"])
            }
        }
    }
}

extension Store {
    /// Rebuilds the full-text index from the articles table alone (`synccli doctor --rebuild` does
    /// this with the rest of the library; the search benchmark times it).
    public func rebuildSearchIndex() throws {
        try write { db in try db.execute(sql: "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')") }
    }
}
