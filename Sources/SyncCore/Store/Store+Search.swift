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
    /// Field-weighted bm25 summed over the fields and terms that matched: lower is better.
    public var rank: Double
}

extension Store {
    /// Full-text search over titles, leads and bodies with Arabic normalisation and clitic
    /// stripping (``ArabicNormalizer``), in the query language of ``SearchQuery``: words (all
    /// must match, in any field), `"quoted phrases"`, `prefix*`. Best match first (bm25 per
    /// field, title weighted highest, summed over fields and terms); trashed articles excluded
    /// unless `includeTrash`.
    ///
    /// ```swift
    /// let hits = try store.search("مستشفى \"قطاع غزة\"")
    /// hits.first?.snippet  // "…قصف [وبالمستشفى] في [قطاع] [غزة] …"
    /// ```
    ///
    /// - throws: ``StoreError`` `.invalidInput` when nothing searchable remains.
    public func search(_ query: String, limit: Int = 20, includeTrash: Bool = false) throws -> [SearchHit] {
        guard let parsed = SearchQuery(query) else {
            throw StoreError(.invalidInput, "nothing to search for in '\(query)': type words, \"a phrase\" or a prefix*")
        }
        return try read { db in
            let ranked = try SearchIndex.rankedArticles(db, query: parsed, limit: limit, includeTrash: includeTrash)
            let snippets = SnippetBuilder(parsed)
            let fetch = try db.cachedStatement(
                sql: "SELECT id, title, CASE ? WHEN 1 THEN summary WHEN 2 THEN body ELSE title END AS text FROM articles WHERE rowid = ?")
            return try ranked.compactMap { hit in
                guard let row = try Row.fetchOne(fetch, arguments: [Self.snippetField(hit.fieldTerms), hit.rowid]) else { return nil }
                return SearchHit(id: row["id"], title: row["title"], snippet: snippets.snippet(row["text"]), rank: hit.rank)
            }
        }
    }

    /// The field a snippet comes from: lead or body, whichever matched more terms (the lead on a
    /// tie), the title only when nothing else matched.
    static func snippetField(_ fieldTerms: SIMD3<UInt64>) -> Int {
        let summary = fieldTerms[1].nonzeroBitCount
        let body = fieldTerms[2].nonzeroBitCount
        if summary == 0 && body == 0 { return 0 }
        return summary >= body ? 1 : 2
    }

    /// Rebuilds the full-text index from the articles table alone (`synccli doctor --rebuild`
    /// does this with the rest of the library; the search benchmark times it).
    public func rebuildSearchIndex() throws {
        try write { db in try SearchIndex.rebuild(db) }
    }
}
