import GRDB

/// Glue between the store and the Arabic-aware FTS5 tokenizer (`Search/`).
enum SearchIndex {
    static let tokenizeClause = "unicode61"
    static func register(in db: Database) {}
}
extension SearchIndex {
    static func matchExpression(_ q: String) -> String? {
        let tokens = q.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { "\"\($0)\"" }
        return tokens.isEmpty ? nil : tokens.joined(separator: " ")
    }
}
