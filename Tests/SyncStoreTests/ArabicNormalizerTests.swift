import Foundation
import GRDB
import TestHarness
import Testing

@testable import SyncStore

/// Whether query `query` finds an indexed word `indexed`: some query key is an index key.
private func finds(_ query: String, _ indexed: String) -> Bool {
    !Set(ArabicNormalizer.queryKeys(query)).isDisjoint(with: ArabicNormalizer.indexKeys(indexed))
}

/// The normaliser's rules, one by one, with the traps of `Tests/Fixtures/search-eval.md` next to them.
@Suite("Arabic normaliser rules")
struct ArabicNormalizerTests {
    @Test(arguments: [
        ("مسئول", "مسؤول"), ("مسؤولية", "المسئولية"), ("شؤون", "والشئون"), ("هيئة", "الهيأة"), ("هيئة", "الهيئه"),
        ("تفاؤل", "بالتفائل"), ("لاجئ", "لاجىء"), ("مئة", "بالمائة"), ("مئة", "مائة"), ("يقرأ", "يقرا"),
        ("يقرأ", "ويقرأُ"), ("إنشاء", "انشاء"), ("سأل", "سئل"),
    ])
    func `hamza seats written differently meet`(_ query: String, _ indexed: String) {
        #expect(finds(query, indexed), "\(ArabicNormalizer.queryKeys(query)) vs \(ArabicNormalizer.indexKeys(indexed))")
    }

    @Test(arguments: [
        ("شؤون", "بشأن"), ("يقرأ", "القراءة"), ("إنشاء", "منشأة"), ("إنشاء", "إنشاءات"), ("هيئة", "تهيئة"),
        ("مئة", "مئات"), ("مئة", "مائية"), ("مئة", "مئوية"), ("مسئول", "مسؤولية"), ("مؤتمر", "مؤامرة"),
    ])
    func `hamza folding does not merge different words`(_ query: String, _ indexed: String) {
        #expect(!finds(query, indexed))
    }

    @Test(arguments: [
        ("الآليات", "آليات"), ("آليات", "الآليات"), ("آليات", "والآليات"), ("الآليات", "للآليات"), ("أمم", "الأمم"),
        ("أمم", "للأمم"), ("الإغاثة", "الاغاثة"), ("الإغاثة", "للإغاثة"), ("آثار", "والآثار"), ("امل", "الأمل"),
    ])
    func `a word starting with an alef form is found after the article`(_ query: String, _ indexed: String) {
        #expect(finds(query, indexed))
    }

    @Test(arguments: [("آلية", "الآليات"), ("أمم", "أمام"), ("أمم", "أممي"), ("آثار", "أثراً"), ("الإغاثة", "الإغاثية")])
    func `alef folding keeps neighbours apart`(_ query: String, _ indexed: String) {
        #expect(!finds(query, indexed))
    }

    @Test(arguments: [
        ("مستشفى", "وبالمستشفى"), ("مستشفى", "فللمستشفى"), ("مستشفى", "لمستشفى"), ("السوق", "وبالسوق"), ("السوق", "فالسوق"),
        ("جامعة", "وللجامعة"), ("عادة", "وكالعادة"), ("عادة", "كالعــادة"), ("عادة", "عادةً"), ("الحدود", "وبالحدود"),
        ("المعبر", "فالمعبر"), ("مستوطنين", "للمستوطنين"), ("لاجئين", "للاجئين"), ("وزير", "ووزير"), ("والي", "والوالي"),
    ])
    func `stacked proclitics are stripped on the indexed side`(_ query: String, _ indexed: String) {
        #expect(finds(query, indexed))
    }

    @Test func `every stem of a stack is indexed, none shorter than three letters`() {
        #expect(ArabicNormalizer.indexKeys("وبالمستشفى") == ["وبالمستشفي", "بالمستشفي", "المستشفي", "مستشفي"])
        #expect(ArabicNormalizer.indexKeys("للاجئين") == ["للاجءين", "لاجءين", "اجءين"])
        #expect(ArabicNormalizer.indexKeys("وكالعادة").last == "عاده")
        #expect(ArabicNormalizer.indexKeys("الله") == ["الله"])
        #expect(ArabicNormalizer.indexKeys("بحر") == ["بحر"])
    }

    @Test(arguments: [
        ("والي", "إلى"), ("وزير", "الزير"), ("بحر", "الحر"), ("لبن", "لبنان"), ("لبن", "الألبان"), ("لجنة", "جنة"),
        ("بلدية", "لديه"), ("بلدية", "بلدة"), ("عادة", "إعادة"), ("عادة", "العادية"), ("بغزة", "غزة"),
    ])
    func `a query word keeps its own first letter`(_ query: String, _ indexed: String) {
        #expect(!finds(query, indexed))
    }

    @Test func `only article-bearing sequences are stripped from a query`() {
        #expect(ArabicNormalizer.queryKeys("للاحتلال") == ["للاحتلال", "احتلال"])
        #expect(ArabicNormalizer.queryKeys("والمقاومة") == ["والمقاومه", "مقاومه"])
        #expect(ArabicNormalizer.queryKeys("وزير") == ["وزير"])
        #expect(ArabicNormalizer.queryKeys("بالله") == ["بالله"])
    }

    @Test func `a tanween-alef ending goes only when the mark is written`() {
        #expect(finds("بيت", "بيتاً"))
        #expect(finds("بيت", "بيتًا"))  // the mark before the alef
        #expect(!finds("بيت", "بيتا"))  // the village of Beita
        #expect(finds("أيضا", "أيضاً"))  // typed without the mark, still found
        #expect(finds("جزء", "جزءاً"))
    }

    @Test func `a change of script inside a run is a word boundary`() {
        #expect(WordBreaking.words("لـCNN").map { String(String.UnicodeScalarView($0)) } == ["لـ", "CNN"])
        #expect(WordBreaking.words("G7 عام2024").count == 2)
        #expect(SearchQuery("لـCNN")?.terms.map(\.words) == [["CNN"]])
    }

    @Test func `capitals find the acronym, lowercase finds both`() {
        #expect(!finds("WHO", "who"))
        #expect(finds("WHO", "WHO"))
        #expect(finds("who", "WHO"))
        #expect(finds("who", "who"))
        #expect(finds("FEBRUARY", "February"))  // longer than an acronym: case-insensitive
        #expect(finds("unrwa", "UNRWA"))
    }

    @Test(arguments: [("٢٠٢٤", "2024"), ("۲۰۲۴", "2024"), ("150", "١٥٠"), ("مُؤْتَمَر", "المؤتمر"), ("هدنه", "بهدنة"), ("القاضي", "القاضى")])
    func `digits, tashkeel, ta marbuta and alef maqsura fold`(_ query: String, _ indexed: String) {
        #expect(finds(query, indexed))
        #expect(!finds("150", "١٥٠٠"))
    }

    /// The tokenizer's fast paths (ASCII, memo) against the pure normaliser, word by word, on the
    /// seed article and every evaluation document.
    @Test func `the UTF-8 tokenizer emits exactly the normaliser's keys`() throws {
        var texts = [try seedArticle(), "WHO who CNN لـCNN ＧＡＺＡ Café ﷺ e\u{301} \u{200C}x"]
        texts += try SearchEval.load().documents.map { $0.title + "\n" + $0.text }
        let dbQueue = try DatabaseQueue()
        try dbQueue.read { db in
            db.add(tokenizer: ArabicTokenizer.self)
            let tokenizer = try db.makeTokenizer(ArabicTokenizer.descriptor)
            for text in texts {
                let expected = WordBreaking.words(text).flatMap { ArabicNormalizer.keys($0, side: .index).flatMap(\.self) }
                #expect(try tokenizer.tokenize(document: text).map(\.token) == expected)
                let expectedQuery = WordBreaking.words(text).flatMap { ArabicNormalizer.keys($0, side: .query).flatMap(\.self) }
                #expect(try tokenizer.tokenize(query: text).map(\.token) == expectedQuery)
            }
        }
    }

    @Test func `the memo stays bounded and correct across resets`() {
        let memo = TokenKeyMemo(capacity: 100)
        func bytes(_ i: Int) -> [UInt8] { Array("كلمة\(i)".utf8) }
        for i in 0..<250 {
            bytes(i).withUnsafeBufferPointer { key in
                #expect(memo.lookup(key) == nil)
                memo.insert(key, value: [UInt8(i % 256)])
            }
        }
        #expect(memo.count <= 100)
        #expect(memo.resets == 2)
        bytes(249).withUnsafeBufferPointer { key in
            let range = memo.lookup(key)
            #expect(range.map { Array(memo.values[$0]) } == [249])
        }
        bytes(10).withUnsafeBufferPointer { #expect(memo.lookup($0) == nil) }
    }
}
