import Foundation
import GRDB
import SyncModel
import SyncWire
import TestHarness
import Testing

@testable import SyncStore

/// An in-memory FTS5 index of the seed article, one row per paragraph (rowid = line number),
/// plus synthetic rows for what the article lacks (Latin accents, presentation forms, a ب clitic).
private struct SeedIndex {
    static let synthetic: [Int64: String] = [
        101: "Our correspondent filed from the Café GAZA, near Gaza City.",
        102: "ﺍﻧﺴﺤﺎﺏ ﺍﻟﻘﻮﺍﺕ ﻣﻦ ﻏﺰﺓ",  // presentation forms (U+FExx) of "انسحاب القوات من غزة"
        103: "وصل المراسل بغزة صباحاً",
    ]
    let dbQueue: DatabaseQueue
    let documents: [Int64: String]

    init() throws {
        var documents = Self.synthetic
        for (index, line) in try seedArticle()
            .split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty
        {
            documents[Int64(index + 1)] = String(line)
        }
        var config = Configuration()
        config.registerArabicTokenizer()
        dbQueue = try DatabaseQueue(configuration: config)
        try dbQueue.write { db in
            try db.execute(sql: "CREATE VIRTUAL TABLE paragraph USING fts5(body, \(ArabicTokenizer.tokenizeClause))")
            for (rowid, body) in documents {
                try db.execute(sql: "INSERT INTO paragraph(rowid, body) VALUES (?, ?)", arguments: [rowid, body])
            }
        }
        self.documents = documents
    }

    /// Row ids matching a user query, best first.
    func search(_ userQuery: String) throws -> [Int64] {
        guard let expression = ArabicSearchQuery.matchExpression(userQuery) else { return [] }
        return try dbQueue.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT rowid FROM paragraph WHERE paragraph MATCH ? ORDER BY rank",
                arguments: [expression])
        }
    }

    /// Rows containing `word` spelled exactly so, as a whole word: the test oracle.
    func rows(containingWord word: String) -> Set<Int64> {
        Set(documents.filter { $0.value.split { !($0.isLetter || $0.isNumber) }.contains { $0 == word } }.keys)
    }
}

/// `query` must find every paragraph containing a word of `finds` (spelled as in the text)
/// and none containing a word of `excludes`; with both empty it must find nothing at all.
struct ArabicSearchCase: Sendable, CustomTestStringConvertible {
    let query: String
    var finds: [String] = []
    var excludes: [String] = []
    var testDescription: String { "\(query) → \(finds) ∌ \(excludes)" }
}

private let searchCases: [ArabicSearchCase] = [
    .init(query: "غزة", finds: ["غزّة", "غزة", "وغزّة", "ﻏﺰﺓ", "بغزة"]),  // shadda, clitics و ب, presentation forms
    .init(query: "غَزَّةُ", finds: ["غزّة", "غزة"]),  // tashkeel-heavy query
    .init(query: "غـــزة", finds: ["غزّة", "غزة"]),  // tatweel
    // A single-letter clitic typed in a query is kept (only indexing strips و ف ب ك ل alone, so
    // that `وزير` does not find `الزير`): `بغزة` finds `بغزة`, not every `غزة`.
    .init(query: "بغزة", finds: ["بغزة"], excludes: ["غزّة", "غزة"]),
    .init(query: "غزه", finds: ["غزة", "غزّة"]),  // ة written as ه
    .init(query: "احتلال", finds: ["الاحتلال"]),
    .init(query: "للاحتلال", finds: ["الاحتلال"]),
    .init(query: "إنسحاب", finds: ["انسحاب", "ﺍﻧﺴﺤﺎﺏ"]),  // hamza-alef vs bare alef
    .init(query: "الانسحاب", finds: ["انسحاب"]),
    .init(query: "الاسرائيلي", finds: ["الإسرائيلي"]),
    .init(query: "ٱلإسرائيلي", finds: ["الإسرائيلي"]),  // alef wasla
    .init(query: "امل", finds: ["الأمل"]),
    .init(query: "مستشفي", finds: ["مستشفى"]),  // ى written as ي
    .init(query: "هوى", finds: ["الهوى"]),
    .init(query: "مقاومة", finds: ["المقاومة", "والمقاومة", "للمقاومة"]),
    .init(query: "قوات", finds: ["قوات", "لقوات", "وقوات", "القوات", "ﺍﻟﻘﻮﺍﺕ"]),
    .init(query: "وسط", finds: ["ووسط", "وسط"]),
    .init(query: "مرة", finds: ["للمرّة"]),
    .init(query: "قال", finds: ["وقال", "قال"], excludes: ["وقالت"]),  // no suffix stripping
    .init(query: "شمال", finds: ["شمال", "الشمال"], excludes: ["شمالي"]),
    .init(query: "فلسطين", finds: ["فلسطين"], excludes: ["الفلسطينية"]),
    .init(query: "ميادين", finds: ["الميادين"]),
    .init(query: "جباليا", finds: ["وجباليا"]),
    .init(query: "ابراج المخابرات", finds: ["وأبراج"]),
    .init(query: "مستشفى الشفاء", finds: ["الشفاء"], excludes: ["السمين"]),  // AND: not row 16 (مستشفى الأمل)
    .init(query: "٢٠٢٤", finds: ["2024"]),  // Arabic-Indic digits
    .init(query: "۲۰۲۴", finds: ["2024"]),  // Persian digits
    .init(query: "FEBRUARY", finds: ["February"]),
    .init(query: "fébruary", finds: ["February"]),
    .init(query: "almayadeennews", finds: ["AlMayadeenNews"]),
    .init(query: "tpg", finds: ["TPG"]),
    .init(query: "cafe", finds: ["Café"]),
    .init(query: "CAFÉ gaza", finds: ["Café"]),
    .init(query: "Gaza", finds: ["GAZA", "Gaza"], excludes: ["غزة"]),  // no transliteration
    .init(query: "غزال"),  // shares غز with غزة
    .init(query: "غز"),  // a prefix is not a word
    .init(query: "احتلالات"),
    .init(query: "كرة القدم"),
    .init(query: "غزة كرة"),  // AND: one unknown word empties the result
    .init(query: "\"غزة*\" -( :^", finds: ["غزة"], excludes: ["رعيم"]),  // FTS syntax is dropped
]

@Suite("Arabic full-text search")
struct SearchTests {
    @Test(arguments: searchCases)
    func `query finds its spelling variants and nothing unrelated`(_ c: ArabicSearchCase) throws {
        let index = try SeedIndex()
        let found = Set(try index.search(c.query))
        if c.finds.isEmpty && c.excludes.isEmpty { #expect(found.isEmpty) }
        for word in c.finds {
            let expected = index.rows(containingWord: word)
            #expect(!expected.isEmpty, "oracle: no paragraph contains \(word)")
            #expect(expected.isSubset(of: found), "missed rows \(expected.subtracting(found)) for \(word)")
        }
        for word in c.excludes {
            let unwanted = index.rows(containingWord: word)
            #expect(!unwanted.isEmpty, "oracle: no paragraph contains \(word)")
            #expect(unwanted.isDisjoint(with: found), "wrongly found rows \(unwanted.intersection(found))")
        }
    }

    @Test(arguments: [
        ("غَزَّة", "غزه"), ("غـــزة", "غزه"), ("أإآٱا", "ااااا"), ("مستشفى", "مستشفي"),
        ("٢٠٢٤ ۱۹", "2024 19"), ("Café ÉTÉ Ünïcode", "cafe ete unicode"), ("ﻏﺰﺓ", "غزه"),
        ("ﷲ", "الله"), ("الْقُرْآنُ", "القران"), ("مسؤول", "مسءول"), ("e\u{301}", "e"), ("ＧＡＺＡ", "gaza"),
    ])
    func `fold removes orthographic noise`(_ input: String, _ expected: String) {
        #expect(ArabicNormalizer.fold(input) == expected)
    }

    @Test(arguments: [
        ("بغزة", "غزه"), ("الاحتلال", "احتلال"), ("وقال", "قال"), ("والمقاومة", "مقاومه"),
        ("للمقاومة", "مقاومه"), ("كالعادة", "عاده"), ("فالقوات", "قوات"), ("بالله", "الله"),
        ("الله", "الله"), ("الذي", "الذي"), ("وقت", "وقت"), ("بيت", "بيت"), ("لها", "لها"), ("غزة", "غزه"),
    ])
    func `indexing strips clitic prefixes, never below three letters`(_ input: String, _ expected: String) {
        let keys = ArabicNormalizer.indexKeys(input)
        #expect(keys.first == ArabicNormalizer.fold(input))  // the whole word comes first
        #expect(keys.last == expected)  // the longest strip last
        #expect(keys.dropFirst().allSatisfy { $0.unicodeScalars.count >= ArabicNormalizer.minimumStemLength })
    }

    @Test func `searchKey folds then stems`() {
        #expect(ArabicNormalizer.searchKey("وَالْمُقَاوَمَةُ") == "مقاومه")
        #expect(ArabicNormalizer.searchKey("بغزّة") == ArabicNormalizer.searchKey("غزة"))
        #expect(ArabicNormalizer.searchKey("ـــ") == "")
    }

    @Test func `the tokenizer keeps a diacritized word whole and emits its keys colocated`() throws {
        let dbQueue = try DatabaseQueue()
        try dbQueue.read { db in
            db.add(tokenizer: ArabicTokenizer.self)
            let tokenizer = try db.makeTokenizer(ArabicTokenizer.descriptor)
            let tokens = try tokenizer.tokenize(document: "قطاعِ غَزَّةَ، وَالْمُقَاوَمَةُ ﷺ")
                .map { ($0.flags.contains(.colocated) ? "+" : "") + $0.token }
            #expect(tokens == ["قطاع", "غزه", "والمقاومه", "+المقاومه", "+مقاومه", "صلي", "الله", "عليه", "وسلم", "+سلم"])
            // What the tokenizer spares us: unicode61 cuts a word at every diacritic.
            let plain = try db.makeTokenizer(.unicode61()).tokenize(document: "غَزَّةَ").map(\.token)
            #expect(plain.count > 1)
        }
    }

    @Test func `FTS5 folds raw MATCH queries through the tokenizer, without the helper`() throws {
        let index = try SeedIndex()
        let rows = try index.dbQueue.read { db in
            try Int64.fetchSet(db, sql: "SELECT rowid FROM paragraph WHERE paragraph MATCH ?", arguments: ["غَزَّة"])
        }
        #expect(
            rows
                == index.rows(containingWord: "غزّة").union(index.rows(containingWord: "غزة"))
                .union(index.rows(containingWord: "وغزّة")).union([102, 103]))
    }

    @Test func `matchExpression quotes words and survives hostile input`() throws {
        #expect(ArabicSearchQuery.matchExpression("غزّة  الاحتلال") == "\"غزّة\" AND \"الاحتلال\"")
        #expect(ArabicSearchQuery.matchExpression("body:غزة*") == "\"body\" AND \"غزة\" *")
        for empty in ["", "   ", "\"(*)\"", "!!! ، ؟", "ـــ", "\u{064E}\u{0651}"] {
            #expect(ArabicSearchQuery.matchExpression(empty) == nil, "\(empty)")
        }
        let index = try SeedIndex()
        for hostile in ["\"", "غزة\"", "NEAR(غزة", "-غزة", "^غزة", "غزة AND", "{body}: x", "'; DROP TABLE paragraph; --"] {
            #expect(throws: Never.self) { _ = try index.search(hostile) }
        }
    }

    @Test func `bm25 ranks the paragraph with more (folded) hits first`() throws {
        var config = Configuration()
        config.registerArabicTokenizer()
        let dbQueue = try DatabaseQueue(configuration: config)
        let ranked = try dbQueue.write { db in
            try db.create(virtualTable: "note", using: FTS5()) { t in
                t.tokenizer = ArabicTokenizer.descriptor
                t.column("body")
            }
            // Same length (8 words); row 2 mentions Gaza three times, in three spellings.
            try db.execute(
                sql: "INSERT INTO note(rowid, body) VALUES (1, ?), (2, ?), (3, ?)",
                arguments: [
                    "وصل المراسل إلى غزة صباح اليوم بعد انتظار",
                    "غزّة تنتظر ويقول الناس بغزة إن غزه صامدة",
                    "وصل المراسل إلى رفح صباح اليوم بعد انتظار",
                ])
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, bm25(note) AS score FROM note WHERE note MATCH ? ORDER BY bm25(note)
                    """, arguments: [ArabicSearchQuery.matchExpression("غزة")])
        }
        try #require(ranked.map { $0["rowid"] as Int64 } == [2, 1])
        #expect((ranked[0]["score"] as Double) < (ranked[1]["score"] as Double))  // lower is better
    }

    @Test func `snippet highlights the word as the author spelled it`() throws {
        let index = try SeedIndex()
        let snippets = try index.dbQueue.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT snippet(paragraph, -1, '[', ']', '…', 10) FROM paragraph
                    WHERE paragraph MATCH ? AND rowid IN (1, 3, 18) ORDER BY rowid
                    """, arguments: [ArabicSearchQuery.matchExpression("غزة")])
        }
        try #require(snippets.count == 3)
        #expect(snippets[0].contains("[غزة]"))
        #expect(snippets[1].contains("[غزّة]"))  // shadda kept in the highlight
        #expect(snippets[2].contains("[وغزّة]"))  // the whole original word, clitic included
    }

    @Test func `tokenize='arabic' with arguments is rejected rather than silently rewrapped`() throws {
        var config = Configuration()
        config.registerArabicTokenizer()
        let dbQueue = try DatabaseQueue(configuration: config)
        #expect(throws: DatabaseError.self) {
            try dbQueue.write { db in
                try db.execute(sql: "CREATE VIRTUAL TABLE t USING fts5(body, tokenize='arabic unicode61')")
            }
        }
    }
}
