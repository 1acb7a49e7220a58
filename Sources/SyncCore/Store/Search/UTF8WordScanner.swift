/// Finds words (``WordBreaking``'s rules) in UTF-8 text without decoding it into a `String`.
///
/// ASCII is classified from one byte and two-byte sequences (Latin, Arabic: U+0080–U+07FF) from
/// ``WordBreaking/lowTable``; only longer sequences (presentation forms, CJK, punctuation such as
/// `“ ” …`) reach Unicode's property tables. Malformed bytes are separators.
///
/// ```swift
/// var t = "قال لـCNN: غَزَّة"
/// t.withUTF8 { bytes in
///     var scanner = UTF8WordScanner(bytes)
///     while let word = scanner.next() { print(word.start, word.end, word.isASCII) }  // 4 words
/// }
/// ```
struct UTF8WordScanner {
    /// One word: its bytes are `start..<end` of the scanned text.
    struct Word {
        var start: Int
        var end: Int
        var isASCII: Bool
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func next() -> Word? {
        let n = bytes.count
        // Skip separators.
        while position < n {
            let (c, length) = classify(at: position)
            if c != .separator { break }
            position += length
        }
        guard position < n else { return nil }
        let start = position
        var script: WordBreaking.Class?
        var ascii = true
        while position < n {
            let (c, length) = classify(at: position)
            if c == .separator { break }
            if WordBreaking.isScriptBreak(script, c) { break }
            if c == .arabicLetter || c == .otherLetter { script = c }
            if length > 1 { ascii = false }
            position += length
        }
        return Word(start: start, end: position, isASCII: ascii)
    }

    /// The class of the scalar at `i` and its length in bytes.
    @inline(__always)
    private func classify(at i: Int) -> (WordBreaking.Class, Int) {
        let b0 = bytes[i]
        if b0 < 0x80 { return (WordBreaking.lowTable[Int(b0)], 1) }
        let n = bytes.count
        func continuation(_ k: Int) -> UInt32? {
            guard i + k < n, bytes[i + k] & 0xC0 == 0x80 else { return nil }
            return UInt32(bytes[i + k] & 0x3F)
        }
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = continuation(1) else { return (.separator, 1) }
            return (WordBreaking.lowTable[Int((UInt32(b0 & 0x1F) << 6) | c1)], 2)
        case 0xE0...0xEF:
            guard let c1 = continuation(1), let c2 = continuation(2) else { return (.separator, 1) }
            let v = (UInt32(b0 & 0x0F) << 12) | (c1 << 6) | c2
            if (0x2000...0x206F).contains(v) { return (.separator, 3) }  // general punctuation, spaces, ZWJ/ZWNJ/RLM
            guard v >= 0x800, let scalar = Unicode.Scalar(v) else { return (.separator, 1) }
            return (WordBreaking.classify(scalar), 3)
        case 0xF0...0xF4:
            guard let c1 = continuation(1), let c2 = continuation(2), let c3 = continuation(3) else { return (.separator, 1) }
            let v = (UInt32(b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3
            guard v >= 0x10000, let scalar = Unicode.Scalar(v) else { return (.separator, 1) }
            return (WordBreaking.classify(scalar), 4)
        default:
            return (.separator, 1)
        }
    }
}
