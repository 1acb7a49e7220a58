import Foundation
import SyncModel
import SyncWire

/// Turns a word into the keys search indexes and looks up, so that spelling variants of the same
/// Arabic (or Latin) word meet.
///
/// This is the pure half of full-text search: no database involved. ``ArabicTokenizer`` indexes
/// ``indexKeys(_:)`` of every word and looks up ``queryKeys(_:)`` of every query word, as
/// alternatives at one position (FTS5 colocated tokens), so both sides always agree.
///
/// ```swift
/// ArabicNormalizer.fold("غَزَّة")                  // "غزه"
/// ArabicNormalizer.fold("إنسحاب ٢٠٢٤")            // "انسحاب 2024"
/// ArabicNormalizer.indexKeys("وبالمستشفى")        // ["وبالمستشفي", "بالمستشفي", "المستشفي", "مستشفي"]
/// ArabicNormalizer.indexKeys("الآليات")           // ["الاليات", "اليات"]
/// ArabicNormalizer.queryKeys("الآليات")           // ["الاليات", "اليات"]: finds آليات
/// ArabicNormalizer.queryKeys("والي")              // ["والي"]: not the "الي" of إلى
/// ArabicNormalizer.indexKeys("مسئول") == ArabicNormalizer.indexKeys("مسؤول")  // true: "مسءول"
/// ```
///
/// The rules, in order (see ``ArabicFolding`` and ``ArabicClitics``):
/// 1. NFKC when the word has anything outside ASCII and the base Arabic block (presentation
///    forms, ligatures such as `ﷺ`, which may become several words, full-width Latin).
/// 2. Tashkeel, tatweel and other marks go; a tanween-alef ending (`بيتاً`) is noted.
/// 3. Clitics are found on the letters as written: indexing strips every proclitic sequence
///    `(و|ف)?(ب|ك|ل)?(ال)?` or `(و|ف)?لل`, a query only those holding the article; each
///    strip leaves ≥ ``minimumStemLength`` letters.
/// 4. The whole word and each stem are folded on their own (hamza seats depend on where the
///    letter sits in the stem): ``ArabicFolding/foldStem(_:)``.
/// 5. A tanween-alef ending is dropped (`بيتاً` → `بيت`); indexing also keeps the form with
///    the alef, so a query typed without the mark (`أيضا`) still finds `أيضاً`.
/// 6. A 2–3 letter ALL-CAPS ASCII word is also indexed under its capitals (`WHO`); a query
///    typed in capitals looks up only those, so `WHO` does not find the pronoun "who" while
///    `who` finds both.
///
/// Conflations accepted, because no letter-based rule separates them: `الأعلام` "flags" and
/// `الإعلام` "media" (both stem to `اعلام`), `الأسرى` and `الأسري`, the village `بيتا` and
/// `بيتاً` (only with the mark written), `مُدَرِّسَة` and `مَدْرَسَة` once tashkeel goes, and a
/// query word of 4+ letters starting with و ف ب ك ل that is found inside a longer clitic stack
/// on the indexed side (`جنة` finds `لجنة`: indexing strips the `ل`). Suffixes (ها، هم، ات،
/// ون…) are never stripped: without a lexicon that conflates far more than it finds, and
/// prefix queries (`مقاوم*`) cover the rest.
///
/// ## Topics
///
/// - ``fold(_:)``
/// - ``indexKeys(_:)``
/// - ``queryKeys(_:)``
/// - ``searchKey(_:)``
/// - ``minimumStemLength``
public enum ArabicNormalizer {
    /// The shortest stem clitic stripping may leave behind, in letters.
    ///
    /// Three is the length of most Arabic roots: it keeps `الله` from becoming `له` ("to him")
    /// and `بحر` "sea" from becoming `حر` "heat".
    public static let minimumStemLength = 3

    /// Folds every word of `s` as a whole (no clitic stripping), leaving separators as they are.
    ///
    /// ```swift
    /// ArabicNormalizer.fold("غـــزّة")       // "غزه"
    /// ArabicNormalizer.fold("Café")          // "cafe"
    /// ArabicNormalizer.fold("أسئلة مسؤول")   // "اسءله مسءول"
    /// ```
    public static func fold(_ s: String) -> String {
        let source = s.unicodeScalars.contains(where: ArabicFolding.needsCompatibilityMapping) ? s.precomposedStringWithCompatibilityMapping : s
        var out = String.UnicodeScalarView()
        var word: [Unicode.Scalar] = []
        func flush() {
            guard !word.isEmpty else { return }
            out.append(contentsOf: canonicalKey(ArabicFolding.skeleton(word), from: 0))
            word.removeAll(keepingCapacity: true)
        }
        for scalar in source.unicodeScalars {
            if WordBreaking.wordClass(scalar) == .separator {
                flush()
                out.append(scalar)
            } else {
                word.append(scalar)
            }
        }
        flush()
        return String(out)
    }

    /// Every key indexed for `word` (one word as ``WordBreaking`` cuts text): the whole word
    /// folded, then each stem. Empty when the word folds to nothing (only tatweel or marks).
    ///
    /// ```swift
    /// ArabicNormalizer.indexKeys("للاجئين")  // ["للاجءين", "لاجءين", "اجءين"]
    /// ArabicNormalizer.indexKeys("بيتاً")    // ["بيت", "بيتا"]
    /// ```
    public static func indexKeys(_ word: String) -> [String] {
        keys(Array(word.unicodeScalars), side: .index).flatMap(\.self)
    }

    /// The alternatives a query word is looked up under: the word folded, plus the stems left
    /// by an article-bearing clitic sequence.
    ///
    /// ```swift
    /// ArabicNormalizer.queryKeys("للاحتلال")  // ["للاحتلال", "احتلال"]
    /// ArabicNormalizer.queryKeys("وزير")      // ["وزير"]
    /// ```
    public static func queryKeys(_ word: String) -> [String] {
        keys(Array(word.unicodeScalars), side: .query).flatMap(\.self)
    }

    /// The most-stripped key of a word: the stem left by the longest clitic sequence indexing
    /// strips, folded.
    ///
    /// ```swift
    /// ArabicNormalizer.searchKey("وَالْمُقَاوَمَةُ")  // "مقاومه"
    /// ```
    public static func searchKey(_ token: String) -> String {
        let mapped =
            token.unicodeScalars.contains(where: ArabicFolding.needsCompatibilityMapping) ? token.precomposedStringWithCompatibilityMapping : token
        let skeleton = ArabicFolding.skeleton(Array(mapped.unicodeScalars))
        let longest = ArabicClitics.prefixLengths(skeleton.letters, side: .index).last ?? 0
        return String(String.UnicodeScalarView(canonicalKey(skeleton, from: longest)))
    }

    /// The keys of one word, per position (NFKC can turn one word into several), primary first.
    static func keys(_ word: [Unicode.Scalar], side: ArabicClitics.Side) -> [[String]] {
        guard word.contains(where: ArabicFolding.needsCompatibilityMapping) else {
            let keys = wordKeys(word, side: side)
            return keys.isEmpty ? [] : [keys]
        }
        let mapped = String(String.UnicodeScalarView(word)).precomposedStringWithCompatibilityMapping
        return WordBreaking.words(mapped).map { wordKeys($0, side: side) }.filter { !$0.isEmpty }
    }

    private static func wordKeys(_ word: [Unicode.Scalar], side: ArabicClitics.Side) -> [String] {
        if let capitals = acronym(word) {
            return side == .query ? [capitals] : [capitals.lowercased(), capitals]
        }
        let skeleton = ArabicFolding.skeleton(word)
        guard !skeleton.letters.isEmpty else { return [] }
        var keys: [String] = []
        func add(_ scalars: some Sequence<Unicode.Scalar>) {
            let key = String(String.UnicodeScalarView(scalars))
            if !key.isEmpty && !keys.contains(key) { keys.append(key) }
        }
        for start in [0] + ArabicClitics.prefixLengths(skeleton.letters, side: side) {
            add(canonicalKey(skeleton, from: start))
            if side == .index && skeleton.tanweenAlef { add(ArabicFolding.foldStem(skeleton.letters[start...])) }
        }
        return keys
    }

    /// The stem from `start`, folded, without a tanween-alef ending.
    private static func canonicalKey(_ skeleton: ArabicFolding.Skeleton, from start: Int) -> [Unicode.Scalar] {
        var folded = ArabicFolding.foldStem(skeleton.letters[start...])
        if skeleton.tanweenAlef && folded.count > 1 && folded.last == ArabicFolding.alef { folded.removeLast() }
        return folded
    }

    /// A 2–3 letter ASCII word in capitals (digits allowed): `WHO`, `CNN`, `UN`, `G20`.
    static func acronym(_ word: [Unicode.Scalar]) -> String? {
        var letters = 0
        for scalar in word {
            switch scalar.value {
            case 0x41...0x5A: letters += 1
            case 0x30...0x39: continue
            default: return nil
            }
        }
        return (2...3).contains(letters) ? String(String.UnicodeScalarView(word)) : nil
    }
}
