/// The proclitics search strips: a conjunction, a preposition and the article, stacked.
///
/// Found on the word's skeleton (marks removed, letters as written): `الآليات` is `ال` + `آليات`,
/// not the `ال` of a folded `اليات`.
///
/// - Indexed words: every sequence `(و|ف)?(ب|ك|ل)?(ال)?` or `(و|ف)?لل`, so `وبالمستشفى` is
///   also indexed as `بالمستشفى`, `المستشفى` and `مستشفى`.
/// - Query words: only sequences holding the article (`ال`, `وال`, `بال`, `وبال`, `كال`, `لل`,
///   `فلل` …). A single letter is never stripped from a query: `وزير` must not find `الزير`'s
///   `زير`, nor `والي` "governor" the `الي` of `إلى`.
///
/// Every strip leaves at least ``ArabicNormalizer/minimumStemLength`` letters (`الله` stays).
///
/// ```swift
/// let letters = Array("للاجئين".unicodeScalars)
/// ArabicClitics.prefixLengths(letters, side: .index)  // [1, 2]: لاجئين, اجئين
/// ArabicClitics.prefixLengths(letters, side: .query)  // [2]: اجئين
/// ```
enum ArabicClitics {
    enum Side: Sendable {
        case index
        case query
    }

    /// Lengths of the clitic sequences at the start of `letters` that `side` strips, shortest first.
    static func prefixLengths(_ letters: [Unicode.Scalar], side: Side) -> [Int] {
        guard let first = letters.first, isCliticStart(first) else { return [] }
        let n = letters.count
        let longest = n - ArabicNormalizer.minimumStemLength
        guard longest > 0 else { return [] }
        func at(_ i: Int) -> Unicode.Scalar? { i < n ? letters[i] : nil }
        func isArticle(_ i: Int) -> Bool { (at(i) == "\u{0627}" || at(i) == "\u{0671}") && at(i + 1) == "\u{0644}" }

        var lengths: [Int] = []
        func add(_ length: Int) {
            if length > 0 && length <= longest && !lengths.contains(length) { lengths.append(length) }
        }
        for conjunction in [0, 1] where conjunction == 0 || at(0) == "\u{0648}" || at(0) == "\u{0641}" {
            // (و|ف)? لل: ل + the article, its alef elided.
            if at(conjunction) == "\u{0644}" && at(conjunction + 1) == "\u{0644}" { add(conjunction + 2) }
            for preposition in [0, 1] {
                if preposition == 1 {
                    guard let p = at(conjunction), p == "\u{0628}" || p == "\u{0643}" || p == "\u{0644}" else { continue }
                }
                let start = conjunction + preposition
                if isArticle(start) { add(start + 2) }
                if side == .index { add(start) }
            }
        }
        return lengths.sorted()
    }

    /// و ف ب ك ل ا ٱ: the letters a clitic sequence can start with.
    @inline(__always)
    static func isCliticStart(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0648, 0x0641, 0x0628, 0x0643, 0x0644, 0x0627, 0x0671: true
        default: false
        }
    }
}
