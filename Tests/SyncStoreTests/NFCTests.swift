import Foundation
import TestHarness
import Testing

@testable import SyncModel

// `String.nfc` skips Foundation when its quick check says the string is NFC already: it must
// give exactly what `precomposedStringWithCanonicalMapping` gives, for any mix of ASCII, Arabic
// letters and marks (in and out of canonical order, with the composing U+0653–U+0655), Latin
// combining accents, the punctuation singletons and presentation forms.
@Suite struct NFCTests {
    static let pool: [String] = [
        "a", " ", "\n", "é", "e", "\u{301}", "\u{308}", "ا", "ل", "غ", "ز", "ة", "ي", "و",
        "\u{64B}", "\u{64E}", "\u{650}", "\u{651}", "\u{652}", "\u{670}", "\u{653}", "\u{654}", "\u{655}",
        "\u{622}", "\u{623}", "\u{6D6}", "\u{2000}", "\u{2001}", "\u{2014}", "\u{200F}", "\u{FEFB}", "\u{212B}", "한", "\u{1100}",
    ]

    @Test func `nfc equals Foundation's NFC on random strings`() {
        var rng = SeededRandom(seed: 0x4E_4643)
        for _ in 0..<3_000 {
            let s = (0..<rng.int(0...8)).map { _ in Self.pool[rng.int(below: Self.pool.count)] }.joined()
            #expect(s.nfc == s.precomposedStringWithCanonicalMapping, "\(s.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(Array(s.nfc.unicodeScalars) == Array(s.precomposedStringWithCanonicalMapping.unicodeScalars))
        }
    }

    @Test func `an already normalised Arabic body is returned as it is`() {
        let body = "غزّة — الأمم المتحدة، ٢٠٢٤"
        #expect(String.isKnownNFC(body))
        #expect(!String.isKnownNFC("\u{627}\u{653}"))  // composes to آ
        #expect(!String.isKnownNFC("\u{651}\u{64E}"))  // shadda before fatha: not in canonical order
    }
}
