import Foundation

extension String {
    /// The string in Unicode Normalization Form C, as `precomposedStringWithCanonicalMapping`
    /// gives it, without the round trip through Foundation when the string is NFC already (the
    /// usual case: bodies are normalised when captured and normalised again to anchor each
    /// highlight, to derive ids and to import).
    ///
    /// ```swift
    /// "غزة".nfc            // the same string, no copy
    /// "e\u{301}".nfc       // "é"
    /// ```
    public var nfc: String { Self.isKnownNFC(self) ? self : precomposedStringWithCanonicalMapping }

    /// UAX #15's quick check, answering yes only for scalars whose NFC_QC property is surely Yes
    /// (below U+0300; the Arabic block except the composing marks U+0653–U+0655; general
    /// punctuation after the singletons U+2000/U+2001) and combining marks in canonical order.
    /// Anything else is "don't know", and the caller normalises.
    static func isKnownNFC(_ s: String) -> Bool {
        var lastClass: UInt8 = 0
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if v < 0x300 {
                lastClass = 0
                continue
            }
            let allowed = (0x600...0x6FF).contains(v) ? !(0x653...0x655).contains(v) : (0x2002...0x206F).contains(v)
            guard allowed else { return false }
            let ccc = scalar.properties.canonicalCombiningClass.rawValue
            if ccc != 0 && lastClass > ccc { return false }
            lastClass = ccc
        }
        return true
    }
}
