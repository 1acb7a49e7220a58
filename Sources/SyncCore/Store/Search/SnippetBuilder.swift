/// Highlighted passages for search results, built from the text of one field without FTS5
/// (the index is contentless: FTS5's `snippet()` has no text to work on) and without
/// tokenizing more than it shows.
///
/// The field is scanned with the index's own word rules and keys (``UTF8WordScanner``,
/// ``WordKeyer``) only up to its first match: the passage is that match with a few words of
/// context before it, ``windowWords`` words in all, every word of a matching term wrapped in
/// `[` `]` as the author spelled it (clitics and tashkeel kept), `…` where the text was cut.
///
/// ```swift
/// let builder = SnippetBuilder(SearchQuery("مستشفى")!)
/// builder.snippet("نقل المرضى وبالمستشفى نفسه أضرار")  // "نقل المرضى [وبالمستشفى] نفسه أضرار"
/// ```
struct SnippetBuilder {
    /// Words in a passage.
    static let windowWords = 12
    /// Words of context shown before the first match.
    static let contextWords = 3

    private let terms: [[[UInt8]]]
    private let prefixTerms: [Bool]
    private let keyer: WordKeyer

    init(_ query: SearchQuery, keyer: WordKeyer = WordKeyer(memoCapacity: 4096)) {
        // Masks are 64 bits: (term, position) pairs beyond that are not highlighted.
        var budget = 64
        var terms: [[[UInt8]]] = []
        for term in query.terms where term.positions.count <= budget {
            terms.append(term.positions.map { alternatives in alternatives.flatMap { Array($0.utf8) + [0] } })
            budget -= term.positions.count
        }
        self.terms = terms
        self.prefixTerms = query.terms.prefix(terms.count).map { $0.kind == .prefix }
        self.keyer = keyer
    }

    /// The passage of `text` around its first match (the start of the text if nothing matches).
    func snippet(_ text: String) -> String {
        var text = text
        return text.withUTF8 { passage(in: $0) }
    }

    private func passage(in text: UnsafeBufferPointer<UInt8>) -> String {
        var scanner = UTF8WordScanner(text)
        var words: [UTF8WordScanner.Word] = []
        var masks: [UInt64] = []
        var first: Int?
        let longestTerm = terms.map(\.count).max() ?? 1
        while let word = scanner.next() {
            words.append(word)
            masks.append(mask(of: word, in: text))
            if first == nil {
                // A term that ends at this word starts at most `longestTerm - 1` words back.
                first = (max(0, words.count - longestTerm)..<words.count).first { !termMatch(at: $0, masks).isEmpty }
            }
            if let first, words.count >= first + Self.windowWords + longestTerm { break }
        }
        guard !words.isEmpty else { return "" }
        let start = max(0, (first ?? 0) - (first == nil ? 0 : Self.contextWords))
        let end = min(words.count, start + Self.windowWords)
        var marked = Set<Int>()
        for i in start..<end { for length in termMatch(at: i, masks) { marked.formUnion(i..<min(end, i + length)) } }

        var out = start > 0 ? "…" : ""
        var cursor = words[start].start
        for i in start..<end where marked.contains(i) {
            out += String(decoding: UnsafeBufferPointer(rebasing: text[cursor..<words[i].start]), as: UTF8.self)
            out += "[" + String(decoding: UnsafeBufferPointer(rebasing: text[words[i].start..<words[i].end]), as: UTF8.self) + "]"
            cursor = words[i].end
        }
        out += String(decoding: UnsafeBufferPointer(rebasing: text[cursor..<words[end - 1].end]), as: UTF8.self)
        if end < words.count || scanner.next() != nil { out += "…" }
        return out
    }

    /// Bit `b` set: the word matches the position that bit stands for (terms' positions in order).
    private func mask(of word: UTF8WordScanner.Word, in text: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var mask: UInt64 = 0
        _ = keyer.forEachKey(of: word, in: text, side: .index) { _, key in
            var bit = 0
            for (t, positions) in terms.enumerated() {
                for (p, alternatives) in positions.enumerated() {
                    let prefix = prefixTerms[t] && p == positions.count - 1
                    if Self.matches(key, alternatives, prefix: prefix) { mask |= 1 << UInt64(bit) }
                    bit += 1
                }
            }
            return 0
        }
        return mask
    }

    /// Lengths of the terms that match starting at word `i`.
    private func termMatch(at i: Int, _ masks: [UInt64]) -> [Int] {
        var lengths: [Int] = []
        var bit = 0
        for positions in terms {
            if i + positions.count <= masks.count,
                positions.indices.allSatisfy({ masks[i + $0] & (1 << UInt64(bit + $0)) != 0 })
            {
                lengths.append(positions.count)
            }
            bit += positions.count
        }
        return lengths
    }

    /// `alternatives`: keys separated by 0 bytes. Equal (or, for a prefix, starting with one).
    private static func matches(_ key: UnsafeBufferPointer<UInt8>, _ alternatives: [UInt8], prefix: Bool) -> Bool {
        var start = 0
        for (i, b) in alternatives.enumerated() where b == 0 {
            let alternative = alternatives[start..<i]
            if prefix ? key.starts(with: alternative) : key.elementsEqual(alternative) { return true }
            start = i + 1
        }
        return false
    }
}
