import GRDB
import SyncModel
import SyncWire

/// An FTS5 tokenizer that indexes and queries Arabic (and Latin) text through
/// ``ArabicNormalizer/searchKey(_:)``, so `غزة` finds `غزّة` and `بغزة`, `انسحاب` finds
/// `إنسحاب`, and `2024` finds `٢٠٢٤`.
///
/// It wraps SQLite's `unicode61` with `categories 'L* N* Co Mn'`: by default unicode61
/// treats non-spacing marks (all tashkeel) as separators and would cut `غَزَّة` into
/// letters before this tokenizer could fold it.
///
/// Register it on every connection, then name it in the virtual table:
///
/// ```swift
/// var config = Configuration()
/// config.registerArabicTokenizer()
/// let dbQueue = try DatabaseQueue(path: path, configuration: config)
/// try dbQueue.write { db in
///     try db.execute(sql: "CREATE VIRTUAL TABLE articleSearch USING fts5(title, body, \(ArabicTokenizer.tokenizeClause))")
///     // or: try db.create(virtualTable: "articleSearch", using: FTS5()) { t in
///     //         t.tokenizer = ArabicTokenizer.descriptor; t.column("title"); t.column("body") }
/// }
/// ```
///
/// FTS5 runs MATCH queries through the same tokenizer, so queries are folded too; build
/// them with ``ArabicSearchQuery/matchExpression(_:)``. Snippet offsets point into the
/// original text, so `snippet()` highlights the word as the author spelled it.
///
/// ## Topics
///
/// - ``name``
/// - ``descriptor``
/// - ``tokenizeClause``
/// - ``GRDB/Configuration/registerArabicTokenizer()``
final class ArabicTokenizer: FTS5WrapperTokenizer {
    /// The name used in `tokenize='arabic'`.
    static let name = "arabic"

    /// The descriptor for GRDB's `create(virtualTable:using:)` DSL (`t.tokenizer = …`).
    static var descriptor: FTS5TokenizerDescriptor { tokenizerDescriptor() }

    /// The exact option for `CREATE VIRTUAL TABLE … USING fts5(…, tokenize='arabic')`.
    static let tokenizeClause = "tokenize='\(name)'"

    /// What is wrapped: unicode61, keeping diacritics and marks inside words. Diacritics
    /// are kept (`remove_diacritics 0`) so that ``ArabicNormalizer`` alone decides folding;
    /// unicode61 still lowercases, which is harmless.
    static let wrappedDescriptor = FTS5TokenizerDescriptor.unicode61(
        diacritics: .keep,
        categories: "L* N* Co Mn")

    let wrappedTokenizer: any FTS5Tokenizer

    /// Called by SQLite through GRDB when a table using `tokenize='arabic'` is opened.
    /// Arguments are rejected rather than ignored: a different wrapped tokenizer would
    /// silently break Arabic words apart.
    init(db: Database, arguments: [String]) throws {
        guard arguments.isEmpty else {
            throw DatabaseError(message: "tokenizer 'arabic' takes no arguments, got \(arguments)")
        }
        wrappedTokenizer = try db.makeTokenizer(Self.wrappedDescriptor)
    }

    func accept(
        token: String,
        flags: FTS5TokenFlags,
        for tokenization: FTS5Tokenization,
        tokenCallback: FTS5WrapperTokenCallback
    ) throws {
        // NFKC can expand one ligature into several words (ﷺ → "صلى الله عليه وسلم");
        // each becomes its own token at the same source offsets.
        let folded = ArabicNormalizer.fold(token)
        for word in folded.split(whereSeparator: \.isWhitespace) {
            let key = ArabicNormalizer.stem(String(word))
            // Tokens that were only tatweel or marks fold to nothing: index nothing.
            if !key.isEmpty {
                try tokenCallback(key, flags)  // errors must propagate (FTS5 asked to stop)
            }
        }
    }
}

extension Configuration {
    /// Registers ``ArabicTokenizer`` on every connection this configuration opens.
    ///
    /// SQLite tokenizers live per connection, so this must run before any access to a
    /// table declared with ``ArabicTokenizer/tokenizeClause`` (including DatabasePool
    /// readers); `prepareDatabase` guarantees that.
    ///
    /// ```swift
    /// var config = Configuration()
    /// config.registerArabicTokenizer()
    /// let dbPool = try DatabasePool(path: path, configuration: config)
    /// ```
    mutating func registerArabicTokenizer() {
        prepareDatabase { db in db.add(tokenizer: ArabicTokenizer.self) }
    }
}

/// Turns what a person typed into a search box into a safe FTS5 MATCH expression.
///
/// ```swift
/// ArabicSearchQuery.matchExpression("غزّة  الاحتلال")  // "\"غزّة\" AND \"الاحتلال\""
/// ArabicSearchQuery.matchExpression("\"(*")          // nil
/// let rows = try Row.fetchAll(db, sql: """
///     SELECT rowid, snippet(articleSearch, -1, '[', ']', '…', 10) FROM articleSearch
///     WHERE articleSearch MATCH ? ORDER BY rank
///     """, arguments: [expression])
/// ```
public enum ArabicSearchQuery {
    /// Splits `userQuery` into words the way the tokenizer does (letters, digits, marks,
    /// private use), quotes each one as an FTS5 string and ANDs them. Quoting means FTS5
    /// syntax in the input (`"`, `*`, `(`, `-`, `:`, `NEAR`, `OR`, `^`) is searched for as
    /// text or dropped, never interpreted, so user input cannot cause a syntax error.
    /// Words are left unfolded: FTS5 folds them with ``ArabicTokenizer``.
    ///
    /// - returns: nil when nothing searchable remains (empty, punctuation, only tatweel).
    public static func matchExpression(_ userQuery: String) -> String? {
        var terms: [String] = []
        var word = String.UnicodeScalarView()
        func flush() {
            defer { word = String.UnicodeScalarView() }
            let text = String(word)
            guard !ArabicNormalizer.fold(text).allSatisfy(\.isWhitespace) else { return }
            // A word never contains `"` (it is punctuation), but double it anyway as FTS5
            // requires, so this stays safe if the word rule changes.
            terms.append("\"" + text.replacing("\"", with: "\"\"") + "\"")
        }
        for scalar in userQuery.unicodeScalars {
            if isTokenCharacter(scalar) { word.append(scalar) } else { flush() }
        }
        flush()
        return terms.isEmpty ? nil : terms.joined(separator: " AND ")
    }

    /// Mirrors unicode61 with `categories 'L* N* Co Mn'`.
    private static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber, .privateUse, .nonspacingMark:
            true
        default:
            false
        }
    }
}
