import Foundation
import GRDB
import SyncModel
import TestHarness
import Testing

@testable import SyncStore

/// The store's search: the query language, the per-field index and its triggers, snippets, rank.
@Suite("Store search")
struct SearchStoreTests {
    @Test func `the query language: words, phrases, prefixes, never FTS5 syntax`() throws {
        let q = try #require(SearchQuery("مستشفى \"قطاع غزة\" مقاوم* OR -x"))
        #expect(q.terms.map(\.kind) == [.word, .phrase, .prefix, .word, .word])
        #expect(q.terms.map(\.matchExpression) == ["\"مستشفى\"", "\"قطاع غزة\"", "\"مقاوم\" *", "\"OR\"", "\"x\""])
        #expect(SearchQuery("\"غزة")?.terms.map(\.kind) == [.word])  // unterminated, one word: a word
        #expect(SearchQuery("\"وقف إطلاق النار")?.terms.map(\.kind) == [.phrase])
        #expect(SearchQuery("\"غزة*\"")?.terms.map(\.kind) == [.word])  // no prefix inside quotes
        for nothing in ["", "\"\"", "* ( ) -", "ـــ", "\u{064E}"] { #expect(SearchQuery(nothing) == nil, "\(nothing)") }
        let store = try temporaryStore()
        #expect {
            try store.search("!!! ، ؟")
        } throws: { error in
            (error as? StoreError)?.code == .invalidInput && "\(error)".contains("nothing to search for")
        }
    }

    @Test func `words match across fields, a phrase stays within one`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(ArticleDraft(title: "قصف مستشفى الشفاء", summary: "", body: "في قطاع غزة صباح اليوم")).id
        #expect(try store.search("مستشفى غزة").map(\.id) == [id])
        #expect(try store.search("\"قطاع غزة\"").map(\.id) == [id])
        #expect(try store.search("\"الشفاء في\"").isEmpty)  // title's last word + body's first word
        #expect(try store.search("\"غزة قطاع\"").isEmpty)  // order matters
        #expect(try store.search("الشفا*").map(\.id) == [id])  // a prefix holding the article
        #expect(try store.search("المستشف*").map(\.id) == [id])  // …finds the bare مستشفى through its stem
        #expect(try store.search("مستشفى رفح").isEmpty)
    }

    @Test func `edits, trash and rebuild keep the index in step with the articles`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(ArticleDraft(title: "وصول المساعدات", summary: "قافلة جديدة", body: "دخلت الشاحنات عبر المعبر")).id
        try store.editArticle(id, [(ArticleFields.title, "انقطاع الكهرباء")])
        #expect(try store.search("المساعدات").isEmpty)
        #expect(try store.search("الكهرباء").map(\.id) == [id])
        #expect(try store.search("المعبر").map(\.id) == [id])  // the body was not touched
        try store.editArticle(id, [(ArticleFields.summary, "")])
        #expect(try store.search("قافلة").isEmpty)
        try store.trash(id)
        #expect(try store.search("الكهرباء").isEmpty)
        #expect(try store.search("الكهرباء", includeTrash: true).map(\.id) == [id])
        try store.restore(id)
        try store.rebuild()
        #expect(try store.search("الكهرباء المعبر").map(\.id) == [id])
        try store.rebuildSearchIndex()
        #expect(try store.search("\"عبر المعبر\"").map(\.id) == [id])
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func `after random edits the triggers leave the index a rebuild would build`() throws {
        let store = try temporaryStore()
        let vocabulary = ["غزة", "وبالمستشفى", "الآليات", "مسئول", "قطاع", "WHO", "رفح", "للاجئين", "بيتاً", "مقاومة"]
        var random = SeededRandom(seed: 7)
        func text(_ n: Int) -> String { (0..<n).map { _ in random.pick(vocabulary)! }.joined(separator: " ") }
        var ids: [String] = []
        for i in 0..<6 { ids.append(try store.addArticle(ArticleDraft(title: "خبر \(i) " + text(2), summary: text(3), body: text(8))).id) }
        for _ in 0..<60 {
            let field = random.pick([ArticleFields.title, ArticleFields.summary, ArticleFields.body])!
            let value = field == ArticleFields.title ? "خبر " + text(2) : (random.chance(0.2) ? "" : text(random.int(1...9)))
            try store.editArticle(random.pick(ids)!, [(field, value)])
        }
        try store.trash(ids[0])
        let queries = vocabulary + ["مستشفى", "آليات", "مسؤول", "لاجئ*", "\"قطاع غزة\"", "who", "بيت"]
        func results() throws -> [[SearchHit]] { try queries.map { try store.search($0, limit: 10, includeTrash: true) } }
        let incremental = try results()
        try store.rebuildSearchIndex()
        #expect(try results() == incremental)
        try store.write { db in try db.execute(sql: "INSERT INTO article_search(article_search) VALUES ('integrity-check')") }
    }

    @Test func `a title match ranks above a body match, and more matches above fewer`() throws {
        let store = try temporaryStore()
        // Articles without the word, so that bm25's idf for it is positive.
        for i in 1...5 { try store.addArticle(ArticleDraft(title: "خبر \(i)", body: "نص عن خان يونس رقم \(i)")) }
        let body = try store.addArticle(ArticleDraft(title: "أخبار اليوم", body: "وصل الوفد إلى رفح بعد ظهر اليوم")).id
        let title = try store.addArticle(ArticleDraft(title: "رفح تستقبل الوفد", body: "وصل الوفد بعد ظهر اليوم")).id
        let both = try store.addArticle(ArticleDraft(title: "معبر رفح", body: "في رفح وصل الوفد إلى معبر رفح")).id
        #expect(try store.search("رفح").map(\.id) == [both, title, body])
    }

    @Test func `snippets show the first match of the best field, as written`() throws {
        let store = try temporaryStore()
        let words = (1...30).map { "كلمة\($0)" }
        let body = words[0..<20].joined(separator: " ") + " وبالمستشفى " + words[20...].joined(separator: " ")
        try store.addArticle(ArticleDraft(title: "مستشفى", summary: "خبر قصير", body: body))
        let hit = try #require(try store.search("مستشفى").first)
        #expect(hit.snippet == "…كلمة18 كلمة19 كلمة20 [وبالمستشفى] كلمة21 كلمة22 كلمة23 كلمة24 كلمة25 كلمة26 كلمة27 كلمة28…")
        try store.addArticle(ArticleDraft(title: "عاجل: WHO تحذر", body: "نص بلا المنظمة"))
        #expect(try store.search("WHO").first?.snippet == "عاجل: [WHO] تحذر")  // only the title matches
    }

    @Test(arguments: [
        ("\"قطاع غزة\"", "في شمال [قطاع] [غزّة] قصف. والمقاومة تواصل"), ("مقاوم*", "…قطاع غزّة قصف. [والمقاومة] تواصل"),
        ("غزة قصف", "في شمال قطاع [غزّة] [قصف]. والمقاومة تواصل"),
    ])
    func `snippet builder highlights every word of a matching term`(_ query: String, _ expected: String) throws {
        let text = "في شمال قطاع غزّة قصف. والمقاومة تواصل"
        #expect(SnippetBuilder(try #require(SearchQuery(query))).snippet(text) == expected)
    }

    @Test func `a v3 store's index is rebuilt per field by the migration`() throws {
        var config = Configuration()
        config.registerArabicTokenizer()
        let dbQueue = try DatabaseQueue(configuration: config)
        try Schema.migrator.migrate(dbQueue, upTo: "v3-op-envelope")
        try dbQueue.write { db in
            try db.execute(sql: "INSERT INTO articles(rowid, id, title, body) VALUES (7, 'a', 'انسحاب الآليات', 'من خان يونس')")
        }
        try Schema.migrator.migrate(dbQueue)
        try dbQueue.read { db in
            #expect(try db.tableExists("articles_fts") == false)
            // Row id = article × 4 + field (0 title, 2 body); a contentless table can only be matched.
            #expect(try Int64.fetchAll(db, sql: "SELECT rowid FROM article_search WHERE article_search MATCH 'انسحاب OR يونس'") == [28, 30])
            let ranked = try SearchIndex.rankedArticles(db, query: SearchQuery("آليات يونس")!, limit: 5, includeTrash: false)
            #expect(ranked.map(\.rowid) == [7])
        }
    }
}
