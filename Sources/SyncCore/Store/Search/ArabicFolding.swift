import Foundation

/// Letter-level folding of one word: what ``ArabicNormalizer`` applies to a word once its clitics
/// are known. Pure functions of scalars, no database.
///
/// Two steps, because clitics are found on the word as written (``skeleton(_:)``: marks gone,
/// letters untouched, so `الآليات` still starts with `ال` + `آ`) and the hamza rules depend on
/// where a letter sits in the stem (``foldStem(_:)``):
///
/// ```swift
/// let s = ArabicFolding.skeleton(Array("بَيْتاً".unicodeScalars))  // letters بيتا, tanweenAlef true
/// ArabicFolding.foldStem(s.letters[...])                            // "بيتا"
/// ArabicFolding.foldStem(Array("أسئلة".unicodeScalars)[...])        // "اسءله"
/// ```
enum ArabicFolding {
    /// A word's letters with tashkeel, tatweel and other marks removed, and whether it ended in
    /// the tanween-alef case ending (`ـاً` or `ـًا`), which only the mark tells apart from a
    /// word's own final alef (`بيتاً` "a house" vs the village `بيتا`).
    struct Skeleton {
        var letters: [Unicode.Scalar]
        var tanweenAlef: Bool
    }

    static let alef: Unicode.Scalar = "\u{0627}"
    static let hamza: Unicode.Scalar = "\u{0621}"

    static func skeleton(_ word: [Unicode.Scalar]) -> Skeleton {
        var letters: [Unicode.Scalar] = []
        letters.reserveCapacity(word.count)
        var fathatanAfterLast = false
        var fathatanBeforeLast = false
        for scalar in word {
            switch scalar.value {
            case 0x064B:  // fathatan: part of the case ending, never a letter
                fathatanAfterLast = true
            case 0x064C...0x065F, 0x0670, 0x0640:  // other tashkeel, superscript alef, tatweel
                continue
            default:
                switch scalar.properties.generalCategory {
                case .nonspacingMark, .enclosingMark, .format: continue
                default: break
                }
                fathatanBeforeLast = fathatanAfterLast
                fathatanAfterLast = false
                letters.append(scalar)
            }
        }
        let tanweenAlef = letters.count > 1 && letters.last == alef && (fathatanAfterLast || fathatanBeforeLast)
        return Skeleton(letters: letters, tanweenAlef: tanweenAlef)
    }

    /// Folds a stem (clitics already removed): `أ إ آ ٱ` → `ا` at the start; `أ` → `ء` inside
    /// and `ا` at the end; `ؤ ئ` → `ء`; `ىء` → `ء` (the legacy way to write `ئ`); `مائ` → `مئ` at
    /// the start (`مائة` = `مئة`); other alef forms → `ا`; `ى` → `ي`; `ة` → `ه`; Persian `ی ک` →
    /// `ي ك`; Arabic-Indic and Persian digits → ASCII; Latin (Greek, Cyrillic) lowercased with
    /// accents removed.
    static func foldStem(_ stem: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(stem.count)
        var i = stem.startIndex
        let last = stem.endIndex - 1
        if stem.count >= 3, stem[i] == "\u{0645}", stem[i + 1] == alef, stem[i + 2] == "\u{0626}" {
            out.append("\u{0645}")  // مائ → مئ: skip the alef, the hamza below becomes ء
            i += 2
        }
        while i <= last {
            let scalar = stem[i]
            let v = scalar.value
            switch v {
            case 0x41...0x5A:  // ASCII A–Z
                out.append(Unicode.Scalar(v + 0x20)!)
            case 0..<0x80:
                out.append(scalar)
            case 0x0623:  // أ
                out.append(out.isEmpty || i == last ? alef : hamza)
            case 0x0622, 0x0625, 0x0671, 0x0672, 0x0673:  // آ إ ٱ ٲ ٳ
                out.append(alef)
            case 0x0624, 0x0626:  // ؤ ئ
                out.append(hamza)
            case 0x0649, 0x06CC:  // ى, Persian ی
                if i < last, stem[i + 1] == hamza { break }  // ىء: the hamza alone stands for ئ
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
                out.append(scalar)
            default:
                appendFoldedOther(scalar, to: &out)
            }
            i += 1
        }
        return out
    }

    /// Whether NFKC could change the word: ASCII and the base Arabic block (minus the four
    /// compatibility letters U+0675–U+0678) are stable under it, so typical text skips it.
    static func needsCompatibilityMapping(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x80: false
        case 0x0675...0x0678: true  // ٵ ٶ ٷ ٸ: high-hamza compatibility letters
        case 0x0600...0x06FF: false
        default: true
        }
    }

    /// Non-ASCII, non-Arabic scalars: lowercase, and strip accents from Latin/Greek/Cyrillic
    /// letters (é → e) by canonical decomposition.
    private static func appendFoldedOther(_ scalar: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
        let properties = scalar.properties
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
