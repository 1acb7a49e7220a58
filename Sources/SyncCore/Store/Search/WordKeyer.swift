/// The keys of one word found by ``UTF8WordScanner``, at tokenizer speed: what
/// ``ArabicNormalizer`` would say, without building a `String` per word.
///
/// - ASCII words (most Latin text, numbers) are lowercased into a scratch buffer; a 2–3 letter
///   capitals word also gets its capitals key (``ArabicNormalizer`` rule 6).
/// - Anything else is looked up by its raw bytes in a ``TokenKeyMemo``; a miss runs
///   ``ArabicNormalizer`` once and memoizes the result. Query words are few and skip the memo.
///
/// One keyer per tokenizer (per SQLite connection and table): it is not thread-safe.
///
/// ```swift
/// let keyer = WordKeyer()
/// _ = keyer.forEachKey(of: word, in: bytes, side: .index) { colocated, key in 0 }
/// ```
final class WordKeyer {
    private let memo: TokenKeyMemo
    private var scratch = [UInt8](repeating: 0, count: 256)

    init(memoCapacity: Int = 50_000) {
        memo = TokenKeyMemo(capacity: memoCapacity)
    }

    /// Calls `body(colocated, key)` for every key of `word` (bytes of `text`), primary key of
    /// each position first; stops at and returns the first non-zero result.
    func forEachKey(
        of word: UTF8WordScanner.Word, in text: UnsafeBufferPointer<UInt8>, side: ArabicClitics.Side,
        _ body: (Bool, UnsafeBufferPointer<UInt8>) -> Int32
    ) -> Int32 {
        let raw = UnsafeBufferPointer(rebasing: text[word.start..<word.end])
        if word.isASCII && raw.count <= scratch.count {
            return forEachASCIIKey(raw, side: side, body)
        }
        if side == .query {
            let keys = ArabicNormalizer.keys(Array(String(decoding: raw, as: UTF8.self).unicodeScalars), side: .query)
            return TokenKeyMemo.encode(keys).withUnsafeBufferPointer { TokenKeyMemo.forEachKey(in: $0, body) }
        }
        let range =
            memo.lookup(raw)
            ?? memo.insert(
                raw, value: TokenKeyMemo.encode(ArabicNormalizer.keys(Array(String(decoding: raw, as: UTF8.self).unicodeScalars), side: .index)))
        return memo.values.withUnsafeBufferPointer { TokenKeyMemo.forEachKey(in: UnsafeBufferPointer(rebasing: $0[range]), body) }
    }

    @inline(__always)
    private func forEachASCIIKey(
        _ raw: UnsafeBufferPointer<UInt8>, side: ArabicClitics.Side, _ body: (Bool, UnsafeBufferPointer<UInt8>) -> Int32
    ) -> Int32 {
        var upper = 0
        var lower = 0
        scratch.withUnsafeMutableBufferPointer { out in
            for (i, b) in raw.enumerated() {
                switch b {
                case 0x41...0x5A:
                    upper += 1
                    out[i] = b | 0x20
                case 0x61...0x7A:
                    lower += 1
                    out[i] = b
                default:
                    out[i] = b
                }
            }
        }
        let acronym = lower == 0 && (2...3).contains(upper)
        if acronym && side == .query { return body(false, raw) }
        let rc = scratch.withUnsafeBufferPointer { body(false, UnsafeBufferPointer(rebasing: $0[0..<raw.count])) }
        if rc != 0 || !acronym { return rc }
        return body(true, raw)
    }
}
