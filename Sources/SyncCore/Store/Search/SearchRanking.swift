import GRDB
import SyncModel
import SyncWire

/// An article that matched every term of a query.
struct RankedArticle: Equatable {
    var rowid: Int64
    /// Field-weighted bm25 summed over the fields and terms that matched: lower is better.
    var rank: Double
    /// Per field (title, summary, body): bit `t` set when term `t` matched in that field (t < 64).
    var fieldTerms: SIMD3<UInt64>
}

extension SearchIndex {
    /// Articles matching every term of `query`, best first (ties: older row first).
    ///
    /// One FTS5 query per term, rows in row id order, so the rows of one article arrive together
    /// (row id = article × 4 + field) and are summed as they stream; the per-term lists, sorted by
    /// article, are then intersected by merging, and the best `limit` kept. Doing this in Swift
    /// rather than in one `GROUP BY` over a union spares SQLite an ephemeral table and a sort of
    /// every matching row, which for a word in every article was most of the query's time.
    ///
    /// ```swift
    /// let top = try SearchIndex.rankedArticles(db, query: SearchQuery("غزة مستشفى")!, limit: 20, includeTrash: false)
    /// ```
    static func rankedArticles(_ db: Database, query: SearchQuery, limit: Int, includeTrash: Bool) throws -> [RankedArticle] {
        guard limit > 0 else { return [] }
        var lists = try query.terms.enumerated().map { t, term in try matches(db, term.matchExpression, term: t) }
        lists.sort { $0.count < $1.count }  // intersect from the rarest term
        guard var candidates = lists.first else { return [] }
        for list in lists.dropFirst() {
            candidates = intersect(candidates, list)
            if candidates.isEmpty { return [] }
        }
        let trashed = includeTrash ? [] : Set(try Int64.fetchAll(db.cachedStatement(sql: "SELECT rowid FROM articles WHERE trashed <> 0")))
        return best(candidates.lazy.filter { !trashed.contains($0.rowid) }, limit: limit)
    }

    /// The rows matching one term, summed per article, in article order.
    private static func matches(_ db: Database, _ expression: String, term: Int) throws -> [RankedArticle] {
        let statement = try db.cachedStatement(
            sql: "SELECT rowid, bm25(article_search) FROM article_search WHERE article_search MATCH ? ORDER BY rowid")
        let bit: UInt64 = term < 64 ? 1 << UInt64(term) : 0
        let weights = fields.map(\.weight)
        var out: [RankedArticle] = []
        let rows = try Row.fetchCursor(statement, arguments: [expression])
        while let row = try rows.next() {
            let rowid: Int64 = row[0]
            let field = Int(rowid & 3)
            let article = rowid >> 2
            guard field < weights.count else { continue }
            let score = (row[1] as Double) * weights[field]
            if out.last?.rowid == article {
                out[out.count - 1].rank += score
                out[out.count - 1].fieldTerms[field] |= bit
            } else {
                var fieldTerms = SIMD3<UInt64>()
                fieldTerms[field] = bit
                out.append(RankedArticle(rowid: article, rank: score, fieldTerms: fieldTerms))
            }
        }
        return out
    }

    /// Articles in both lists (each in article order), ranks summed, field bits merged.
    private static func intersect(_ a: [RankedArticle], _ b: [RankedArticle]) -> [RankedArticle] {
        var out: [RankedArticle] = []
        var i = 0
        var j = 0
        while i < a.count && j < b.count {
            if a[i].rowid < b[j].rowid {
                i += 1
            } else if a[i].rowid > b[j].rowid {
                j += 1
            } else {
                var merged = a[i]
                merged.rank += b[j].rank
                merged.fieldTerms |= b[j].fieldTerms
                out.append(merged)
                i += 1
                j += 1
            }
        }
        return out
    }

    /// The `limit` best candidates, best first, without sorting them all.
    private static func best(_ candidates: some Sequence<RankedArticle>, limit: Int) -> [RankedArticle] {
        func before(_ x: RankedArticle, _ y: RankedArticle) -> Bool { x.rank < y.rank || (x.rank == y.rank && x.rowid < y.rowid) }
        var top: [RankedArticle] = []
        top.reserveCapacity(min(limit, 1024))
        for c in candidates {
            if top.count == limit, let worst = top.last, !before(c, worst) { continue }
            var lo = 0
            var hi = top.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if before(top[mid], c) { lo = mid + 1 } else { hi = mid }
            }
            top.insert(c, at: lo)
            if top.count > limit { top.removeLast() }
        }
        return top
    }
}
