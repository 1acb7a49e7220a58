import GRDB
import SyncModel
import SyncWire

/// Glue between the store and the Arabic-aware FTS5 tokenizer in `Search/`.
enum SearchIndex {
    /// The `tokenize=` argument of the `articles_fts` table.
    static let tokenizeClause = ArabicTokenizer.name

    static func matchExpression(_ query: String) -> String? {
        ArabicSearchQuery.matchExpression(query)
    }
}
