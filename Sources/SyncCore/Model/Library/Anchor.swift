import Foundation

/// Anchoring in Unicode scalars of the NFC text (never bytes or UTF-16), as DESIGN section 2 says.
public enum Anchor {
    public static let contextLength = 32

    /// Scalar offsets of the `occurrence`-th match of `quote` in `body`, or nil.
    public static func find(_ quote: String, in body: String, occurrence: Int) -> (start: Int, end: Int)? {
        let text = Array(body.nfc.unicodeScalars)
        let needle = Array(quote.nfc.unicodeScalars)
        guard !needle.isEmpty, needle.count <= text.count, occurrence >= 1 else { return nil }
        var seen = 0
        var i = 0
        while i + needle.count <= text.count {
            if text[i] == needle[0] && Array(text[i..<i + needle.count]) == needle {
                seen += 1
                if seen == occurrence { return (i, i + needle.count) }
            }
            i += 1
        }
        return nil
    }

    /// The TextQuoteSelector parts for a scalar range.
    public static func selector(start: Int, end: Int, in body: String) -> (exact: String, prefix: String, suffix: String)? {
        let text = Array(body.nfc.unicodeScalars)
        guard start >= 0, end > start, end <= text.count else { return nil }
        func string(_ s: ArraySlice<Unicode.Scalar>) -> String { String(String.UnicodeScalarView(s)) }
        return (
            string(text[start..<end]), string(text[max(0, start - contextLength)..<start]),
            string(text[end..<min(text.count, end + contextLength)])
        )
    }
}
