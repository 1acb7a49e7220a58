import GRDB
import SyncModel
import SyncWire

/// An FTS5 tokenizer that indexes and queries Arabic (and Latin) text through
/// ``ArabicNormalizer``, so `غزة` finds `غزّة` and `بغزة`, `مستشفى` finds `وبالمستشفى`,
/// `مسئول` finds `مسؤول`, and `2024` finds `٢٠٢٤`.
///
/// It works on the UTF-8 bytes SQLite hands it (``UTF8WordScanner``, ``WordKeyer``): no `String`
/// per word, a memo of the keys of every spelling seen. Each word is reported with the byte
/// offsets of the word as written (clitics and tashkeel included), and its keys as FTS5 colocated
/// tokens at one position:
///
/// - indexing `وبالمستشفى` emits `وبالمستشفي`, then colocated `بالمستشفي`, `المستشفي`, `مستشفي`;
/// - a query word's keys are alternatives (FTS5 matches any colocated query token): `الآليات`
///   is looked up as `الاليات` or `اليات`, and phrases still work position by position.
///
/// Register it on every connection, then name it in the virtual table:
///
/// ```swift
/// var config = Configuration()
/// config.registerArabicTokenizer()
/// let dbQueue = try DatabaseQueue(path: path, configuration: config)
/// try dbQueue.write { db in
///     try db.execute(sql: "CREATE VIRTUAL TABLE note USING fts5(body, \(ArabicTokenizer.tokenizeClause))")
/// }
/// ```
///
/// Build MATCH expressions with ``SearchQuery`` (or ``ArabicSearchQuery/matchExpression(_:)``).
///
/// ## Topics
///
/// - ``name``
/// - ``descriptor``
/// - ``tokenizeClause``
/// - ``GRDB/Configuration/registerArabicTokenizer()``
final class ArabicTokenizer: FTS5CustomTokenizer {
    /// The name used in `tokenize='arabic'`.
    static let name = "arabic"

    /// The descriptor for GRDB's `create(virtualTable:using:)` DSL (`t.tokenizer = …`).
    static var descriptor: FTS5TokenizerDescriptor { tokenizerDescriptor() }

    /// The exact option for `CREATE VIRTUAL TABLE … USING fts5(…, tokenize='arabic')`.
    static let tokenizeClause = "tokenize='\(name)'"

    private let keyer = WordKeyer()

    /// Called by SQLite through GRDB when a table using `tokenize='arabic'` is opened. Arguments
    /// are rejected rather than ignored, so a table declared for another tokenizer's options
    /// fails loudly.
    init(db: Database, arguments: [String]) throws {
        guard arguments.isEmpty else {
            throw DatabaseError(message: "tokenizer 'arabic' takes no arguments, got \(arguments)")
        }
    }

    func tokenize(
        context: UnsafeMutableRawPointer?, tokenization: FTS5Tokenization, pText: UnsafePointer<CChar>?, nText: CInt,
        tokenCallback: @escaping FTS5TokenCallback
    ) -> CInt {
        guard let pText, nText > 0 else { return 0 }
        let text = UnsafeBufferPointer(start: UnsafeRawPointer(pText).assumingMemoryBound(to: UInt8.self), count: Int(nText))
        let side: ArabicClitics.Side = tokenization.contains(.query) ? .query : .index
        var scanner = UTF8WordScanner(text)
        while let word = scanner.next() {
            let start = CInt(word.start)
            let end = CInt(word.end)
            let rc = keyer.forEachKey(of: word, in: text, side: side) { colocated, key in
                key.withMemoryRebound(to: CChar.self) { key in
                    tokenCallback(context, colocated ? 1 : 0, key.baseAddress, CInt(key.count), start, end)  // 1: FTS5_TOKEN_COLOCATED
                }
            }
            if rc != 0 { return rc }  // FTS5 asked to stop (or failed): pass it on
        }
        return 0
    }
}

extension Configuration {
    /// Registers ``ArabicTokenizer`` on every connection this configuration opens.
    ///
    /// SQLite tokenizers live per connection, so this must run before any access to a table
    /// declared with ``ArabicTokenizer/tokenizeClause`` (including DatabasePool readers);
    /// `prepareDatabase` guarantees that.
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
