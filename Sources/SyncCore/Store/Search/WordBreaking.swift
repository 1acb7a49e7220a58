/// Where words begin and end, for indexing, queries and snippets alike.
///
/// A word is a run of letters, digits, non-spacing marks and private-use characters (the
/// categories `L* N* Co Mn`, what SQLite's unicode61 would use with that option: tashkeel is
/// category Mn, so `غَزَّة` stays one word). One more boundary: a change of script between
/// Arabic and another alphabet inside a run, so `لـCNN` is two words, `ل` and `CNN`. Digits and
/// marks belong to no script and never cut a word (`G7`, `عام2024` stay whole).
///
/// ```swift
/// WordBreaking.words("لـCNN: غَزَّة")  // ["لـ", "CNN", "غَزَّة"]
/// ```
enum WordBreaking {
    /// What a scalar is, as far as word breaking goes.
    enum Class: UInt8 {
        case separator = 0
        /// Digits, marks, private use: inside a word, of no script.
        case neutral = 1
        case arabicLetter = 2
        case otherLetter = 3
    }

    /// Classes of U+0000–U+07FF (ASCII, Latin, Greek, Cyrillic, Hebrew, Arabic): the scalars of
    /// a two-byte UTF-8 sequence, looked up without touching Unicode property tables.
    static let lowTable: [Class] = (0..<0x800).map { classify(Unicode.Scalar(UInt32($0))!) }

    @inline(__always)
    static func wordClass(_ scalar: Unicode.Scalar) -> Class {
        scalar.value < 0x800 ? lowTable[Int(scalar.value)] : classify(scalar)
    }

    static func classify(_ scalar: Unicode.Scalar) -> Class {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            isArabic(scalar) ? .arabicLetter : .otherLetter
        case .decimalNumber, .letterNumber, .otherNumber, .privateUse, .nonspacingMark:
            .neutral
        default:
            .separator
        }
    }

    /// The Arabic blocks: base, supplement, extended-A, presentation forms A and B.
    static func isArabic(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0600...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF: true
        default: false
        }
    }

    /// Whether a word that so far holds letters of script `current` ends before a letter of class
    /// `next` (`nil` current: no letter yet).
    @inline(__always)
    static func isScriptBreak(_ current: Class?, _ next: Class) -> Bool {
        guard let current, next == .arabicLetter || next == .otherLetter else { return false }
        return current != next
    }

    /// The words of `text`, as scalar arrays, in order.
    static func words(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var word: [Unicode.Scalar] = []
        var script: Class?
        for scalar in text.unicodeScalars {
            let c = wordClass(scalar)
            if c == .separator || isScriptBreak(script, c) {
                if !word.isEmpty { words.append(word) }
                word.removeAll(keepingCapacity: true)
                script = nil
                if c == .separator { continue }
            }
            if c == .arabicLetter || c == .otherLetter { script = c }
            word.append(scalar)
        }
        if !word.isEmpty { words.append(word) }
        return words
    }
}
