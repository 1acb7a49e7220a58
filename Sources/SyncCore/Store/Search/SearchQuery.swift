/// What a reporter typed into the search box, parsed: the query language of `synccli search`.
///
/// - `word word`: every word must appear (in any field: title, lead or body), under the single
///   word rule of ``ArabicNormalizer`` (spelling variants, clitics and the article).
/// - `"quoted phrase"`: the words adjacent and in order, in one field; each word under the single
///   word rule, so `"وقف إطلاق النار"` matches `لوقف اطلاق النار`. A missing closing quote ends
///   the phrase at the end of the query.
/// - `prefix*`: a word whose folded stem starts with the prefix: `مقاوم*` finds `والمقاومة` and
///   `مقاومون`, not `تقاوم`.
///
/// Anything else (FTS5 operators, parentheses, `-`, `:`, `^`) is punctuation and never reaches
/// FTS5 as syntax; each term becomes a quoted FTS5 string (``Term/matchExpression``).
///
/// ```swift
/// let q = SearchQuery("مستشفى \"قطاع غزة\" مقاوم*")!
/// q.terms.map(\.kind)           // [.word, .phrase, .prefix]
/// q.terms[2].matchExpression    // "\"مقاوم\" *"
/// SearchQuery("(*) ، ؟")        // nil: nothing searchable
/// ```
public struct SearchQuery: Sendable, Equatable {
    /// One condition every result meets.
    public struct Term: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case word
            case phrase
            case prefix
        }

        public var kind: Kind
        /// The words as typed.
        public var words: [String]
        /// The query keys of each position, in order (``ArabicNormalizer/queryKeys(_:)``; a
        /// ligature such as `ﷺ` can make one typed word several positions).
        var positions: [[String]]

        /// A quoted FTS5 string (a phrase when it holds several words), `*` for a prefix.
        /// FTS5 passes the string through ``ArabicTokenizer``, which folds it the same way.
        public var matchExpression: String {
            "\"" + words.joined(separator: " ").replacing("\"", with: "\"\"") + "\"" + (kind == .prefix ? " *" : "")
        }
    }

    /// The conditions, in the order typed.
    public var terms: [Term]

    /// All terms ANDed, for an FTS5 table whose rows are whole documents.
    public var matchExpression: String { terms.map(\.matchExpression).joined(separator: " AND ") }

    /// Parses `text`; nil when nothing searchable remains (empty, punctuation, only tatweel).
    public init?(_ text: String) {
        var terms: [Term] = []
        var phrase: [String]? = nil
        var word: [Unicode.Scalar] = []
        var script: WordBreaking.Class?

        func closePhrase() {
            if let words = phrase, let term = Self.term(words, kind: words.count == 1 ? .word : .phrase) { terms.append(term) }
            phrase = nil
        }
        /// Ends the current word; `next` is the scalar that ended it (nil at the end of the text).
        func endWord(before next: Unicode.Scalar?, scriptChange: Bool) {
            defer {
                word.removeAll()
                script = nil
            }
            guard !word.isEmpty else { return }
            let text = String(String.UnicodeScalarView(word))
            // `لـ` in `لـCNN`: a clitic the script change cut off is not a word to look for.
            if scriptChange && Self.isBareClitic(word) { return }
            if phrase != nil {
                phrase!.append(text)
            } else if let term = Self.term([text], kind: next == "*" ? .prefix : .word) {
                terms.append(term)
            }
        }
        for scalar in text.unicodeScalars {
            let c = WordBreaking.wordClass(scalar)
            if c == .separator {
                endWord(before: scalar, scriptChange: false)
                if scalar == "\"" {
                    if phrase == nil { phrase = [] } else { closePhrase() }
                }
                continue
            }
            if WordBreaking.isScriptBreak(script, c) { endWord(before: scalar, scriptChange: true) }
            if c == .arabicLetter || c == .otherLetter { script = c }
            word.append(scalar)
        }
        endWord(before: nil, scriptChange: false)
        closePhrase()
        guard !terms.isEmpty else { return nil }
        self.terms = terms
    }

    private static func term(_ words: [String], kind: Term.Kind) -> Term? {
        let kept = words.filter { !ArabicNormalizer.queryKeys($0).isEmpty }
        guard !kept.isEmpty else { return nil }
        let positions = kept.flatMap { ArabicNormalizer.keys(Array($0.unicodeScalars), side: .query) }
        return Term(kind: kind == .phrase && kept.count == 1 ? .word : kind, words: kept, positions: positions)
    }

    /// Only proclitic letters (و ف ب ك ل, ال), tatweel and marks.
    private static func isBareClitic(_ word: [Unicode.Scalar]) -> Bool {
        let letters = ArabicFolding.skeleton(word).letters
        return letters.count <= 4 && letters.allSatisfy { ArabicClitics.isCliticStart($0) }
    }
}

/// The query language of ``SearchQuery`` as one FTS5 MATCH expression, for tables whose rows
/// are whole documents (the store's own index has one row per field and runs one FTS5 query per
/// term instead).
///
/// ```swift
/// ArabicSearchQuery.matchExpression("غزّة  الاحتلال")  // "\"غزّة\" AND \"الاحتلال\""
/// ArabicSearchQuery.matchExpression("\"(*")          // nil
/// ```
public enum ArabicSearchQuery {
    /// nil when nothing searchable remains.
    public static func matchExpression(_ userQuery: String) -> String? {
        SearchQuery(userQuery)?.matchExpression
    }
}
