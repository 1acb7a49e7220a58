import Foundation
import SyncModel
import SyncWire

/// Folds and light-stems words so that spelling variants of the same Arabic (or Latin) word
/// produce the same search key.
///
/// This is the pure half of full-text search: no database involved. ``ArabicTokenizer``
/// calls ``searchKey(_:)`` for every word it indexes and for every word of a query, so
/// both sides always agree.
///
/// ```swift
/// ArabicNormalizer.fold("غَزَّة")        // "غزه"
/// ArabicNormalizer.fold("إنسحاب ٢٠٢٤")  // "انسحاب 2024"
/// ArabicNormalizer.stem("الاحتلال")     // "احتلال"
/// ArabicNormalizer.searchKey("بغزّة")    // "غزه"
/// ```
///
/// ## Topics
///
/// - ``fold(_:)``
/// - ``stem(_:)``
/// - ``searchKey(_:)``
/// - ``minimumStemLength``
public enum ArabicNormalizer {
    /// Folds orthographic variants away; meaning is preserved, spelling noise is not.
    ///
    /// In order: NFKC (Arabic presentation forms, ligatures, full-width Latin); strip
    /// tashkeel (U+064B–U+065F, U+0670) and any other non-spacing mark; strip tatweel
    /// (U+0640); alef forms أ إ آ ٱ → ا; ى → ي; ة → ه; Persian ی ک → ي ك; Arabic-Indic
    /// and Persian digits → ASCII; Latin (and Greek/Cyrillic) lowercased with accents
    /// removed. Hamza on waw/yeh (ؤ ئ) and bare hamza (ء) are kept: they distinguish words.
    ///
    /// ```swift
    /// ArabicNormalizer.fold("غـــزّة")  // "غزه"
    /// ArabicNormalizer.fold("Café")    // "cafe"
    /// ```
    public static func fold(_ s: String) -> String {
        // NFKC through Foundation is the slow part; ASCII and the base Arabic block (minus
        // the four compatibility letters U+0675–U+0678) are already stable under it for our
        // purposes, so typical article text skips it entirely.
        let source =
            s.unicodeScalars.contains(where: needsCompatibilityMapping)
            ? s.precomposedStringWithCompatibilityMapping
            : s
        var out = String.UnicodeScalarView()
        for scalar in source.unicodeScalars {
            appendFolded(scalar, to: &out)
        }
        return String(out)
    }

    /// The shortest stem ``stem(_:)`` may leave behind, in letters.
    ///
    /// Three is the length of most Arabic roots: it keeps `الله` from becoming `له`
    /// ("to him") and `الذي` from becoming `ذي`.
    public static let minimumStemLength = 3

    /// Clitic prefixes, longest first so `وال` wins over `و`.
    private static let prefixes: [[Unicode.Scalar]] = ["كال", "بال", "وال", "فال", "لل", "ال", "و", "ف", "ب", "ل"]
        .map { Array($0.unicodeScalars) }

    /// Light-stems an already folded word by removing one common clitic prefix.
    ///
    /// Prefixes: كال بال وال فال لل ال و ف ب ل. The longest prefix that still leaves
    /// ``minimumStemLength`` letters is removed, so `بغزه` → `غزه`, `الاحتلال` → `احتلال`,
    /// `وقال` → `قال`, `بالله` → `الله` (بال would leave two letters, so ب is tried next).
    ///
    /// Trade-offs, accepted for recall: a word whose own first letter is و ف ب ل and which
    /// has four or more letters loses it (`وزير` → `زير`, `والي` "governor" → `الي`, the
    /// same key as `إلى`); both indexing and queries get the same key, so such a word is
    /// still found, with occasional extra hits. Three-letter words (`وقت`, `وصل`, `بيت`) are
    /// never touched. Suffixes (ها، هم، ات، ون…) are not stripped: without a lexicon, suffix
    /// removal conflates far more words than prefix removal, and it would corrupt the
    /// highlighted terms users see in snippets.
    ///
    /// ```swift
    /// ArabicNormalizer.stem("والمقاومه")  // "مقاومه"
    /// ArabicNormalizer.stem("وقت")        // "وقت"
    /// ```
    public static func stem(_ token: String) -> String {
        let scalars = token.unicodeScalars
        // Fast exit: every prefix starts with one of these letters.
        guard let first = scalars.first, "كبوفلا".unicodeScalars.contains(first) else { return token }
        let count = scalars.count
        for prefix in prefixes where count - prefix.count >= minimumStemLength && scalars.starts(with: prefix) {
            return String(scalars.dropFirst(prefix.count))
        }
        return token
    }

    /// The key indexed for one word: `stem(fold(token))`.
    ///
    /// ```swift
    /// ArabicNormalizer.searchKey("وَالْمُقَاوَمَة")  // "مقاومه"
    /// ```
    public static func searchKey(_ token: String) -> String {
        stem(fold(token))
    }

    // MARK: - Scalar folding

    private static func needsCompatibilityMapping(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x80: false
        case 0x0675...0x0678: true  // ٵ ٶ ٷ ٸ: high-hamza compatibility letters
        case 0x0600...0x06FF: false
        default: true
        }
    }

    private static func appendFolded(_ scalar: Unicode.Scalar, to out: inout String.UnicodeScalarView) {
        let v = scalar.value
        switch v {
        case 0x41...0x5A:  // ASCII A–Z
            out.append(Unicode.Scalar(v + 0x20)!)
        case 0..<0x80:
            out.append(scalar)
        case 0x064B...0x065F, 0x0670, 0x0640:  // tashkeel, superscript alef, tatweel
            return
        case 0x0622, 0x0623, 0x0625, 0x0671, 0x0672, 0x0673:  // آ أ إ ٱ ٲ ٳ
            out.append("\u{0627}")
        case 0x0649, 0x06CC:  // ى, Persian ی
            out.append("\u{064A}")
        case 0x0629:  // ة
            out.append("\u{0647}")
        case 0x06A9:  // Persian ک
            out.append("\u{0643}")
        case 0x0660...0x0669:
            out.append(Unicode.Scalar(v - 0x0660 + 0x30)!)
        case 0x06F0...0x06F9:
            out.append(Unicode.Scalar(v - 0x06F0 + 0x30)!)
        case 0x0600...0x06FF:
            // Quranic annotation and honorific marks (U+0610…, U+06D6…) are also Mn.
            if scalar.properties.generalCategory != .nonspacingMark { out.append(scalar) }
        default:
            appendFoldedOther(scalar, to: &out)
        }
    }

    /// Non-ASCII, non-Arabic scalars: drop marks, lowercase, and strip accents from
    /// Latin/Greek/Cyrillic letters (é → e) by canonical decomposition.
    private static func appendFoldedOther(_ scalar: Unicode.Scalar, to out: inout String.UnicodeScalarView) {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format:  // accents left over, ZWJ/RLM and friends
            return
        default:
            break
        }
        let lowered = properties.changesWhenLowercased ? properties.lowercaseMapping : String(scalar)
        guard scalar.value < 0x2000 else {
            out.append(contentsOf: lowered.unicodeScalars)
            return
        }
        for part in lowered.decomposedStringWithCanonicalMapping.unicodeScalars
        where part.properties.generalCategory != .nonspacingMark {
            out.append(part)
        }
    }
}
