import Foundation
import GRDB
import SyncWire
import TestHarness
import Testing

@testable import SyncModel
@testable import SyncStore

/// Bodies and notes that merge character by character, through a store: the state row, the
/// splices an edit sends, the genesis shared by two captures, highlights that stay on their words.
@Suite struct TextStoreTests {
    static let url = "https://www.almayadeen.net/news/politics/rashid-street"

    /// The corpus article as `add` would capture it.
    static func corpusDraft(url: String? = TextStoreTests.url) throws -> ArticleDraft {
        var draft = try ArticleText.parse(try seedArticle(), format: .text)
        draft.url = url
        return draft
    }

    /// Every op one store has that the other lacks, both ways.
    static func exchange(_ a: Store, _ b: Store) throws {
        let (va, vb) = (try a.versionVector(), try b.versionVector())
        try b.merge(try a.ops(since: vb))
        try a.merge(try b.ops(since: va))
    }

    static func ops(after count: Int, of store: Store) throws -> [Op] { Array(try store.ops(replica: store.replica).dropFirst(count)) }

    static func textStates(_ store: Store) throws -> [String: [UInt8]] {
        try store.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT entity, field, state FROM text_states").map {
                    ("\($0["entity"] as String).\($0["field"] as String)", Array($0["state"] as Data))
                })
        }
    }

    @Test func `a highlight stays on its words when a sentence is added at the top`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(try Self.corpusDraft()).id
        let h = try store.highlight(article: id, .quote("شارع الرشيد", occurrence: 1))
        let before = try store.article(id)
        let sentence = "تحديث: أكدت مصادر محلية صحة الخبر صباح اليوم.\n"
        let sent = try store.ownOpCount()
        try store.editArticle(id, [(ArticleFields.body, sentence + before.body)])
        let after = try store.article(id)
        #expect(after.body == sentence + before.body)
        let a = try #require(after.annotations.first { $0.id == h })
        let scalars = Array(after.body.unicodeScalars)
        let start = try #require(a.start), end = try #require(a.end)
        #expect(String(String.UnicodeScalarView(scalars[start..<end])) == "شارع الرشيد")
        #expect(a.exact == "شارع الرشيد")
        #expect(start == (before.annotations[0].start ?? 0) + sentence.unicodeScalars.count)
        #expect(!a.detached)
        // The edit is one insert of the sentence, not a new body.
        let edit = try Self.ops(after: Int(sent), of: store)
        #expect(edit.count == 1)
        guard case .text(_, "body", .insert(let insert)) = edit.first?.body else {
            Issue.record("expected one text insert, got \(edit.map(\.body))")
            return
        }
        #expect(insert.text.count == sentence.unicodeScalars.count)
        #expect(OpCodec.encodeBody(edit[0]).count < sentence.utf8.count + 80)
    }

    /// A highlight's context (`prefix`, `suffix`) is not sent: every store derives it from the
    /// body around the highlight, the same on both laptops, before and after an edit.
    @Test func `a highlight's context is derived where it is placed, not sent`() throws {
        let a = try temporaryStore(name: "a"), b = try temporaryStore(name: "b")
        let id = try a.addArticle(try Self.corpusDraft()).id
        let sent = try a.ownOpCount()
        let h = try a.highlight(article: id, .quote("شارع الرشيد", occurrence: 1), note: "للمتابعة")
        let op = try #require(try Self.ops(after: Int(sent), of: a).first)
        guard case .assign(_, let writes) = op.body else {
            Issue.record("expected an assign, got \(op.body)")
            return
        }
        #expect(Set(writes.map(\.field)) == ["kind", "start", "end", "exact", "author", "created_at", "note"])
        try Self.exchange(a, b)
        func context(_ store: Store) throws -> (String?, String?, String) {
            let article = try store.article(id)
            let highlight = try #require(article.annotations.first { $0.id == h })
            let scalars = Array(article.body.unicodeScalars)
            let start = try #require(highlight.start), end = try #require(highlight.end)
            let before = String(String.UnicodeScalarView(scalars[max(0, start - Anchor.contextLength)..<start]))
            return (highlight.prefix, highlight.suffix, before)
        }
        let (prefixA, suffixA, expected) = try context(a)
        #expect(prefixA == expected && !(suffixA ?? "").isEmpty)
        #expect(try context(b).0 == prefixA && context(b).1 == suffixA)
        // After a sentence typed just before it, both show the new context.
        let body = try b.article(id).body
        let at = try #require(body.range(of: "شارع الرشيد"))
        try b.editArticle(id, [(ArticleFields.body, String(body[..<at.lowerBound]) + "في " + String(body[at.lowerBound...]))])
        try Self.exchange(a, b)
        let (moved, _, movedExpected) = try context(a)
        #expect(moved == movedExpected && moved != prefixA && moved?.hasSuffix("في ") == true)
        #expect(try context(b).0 == moved && a.canonicalDump() == b.canonicalDump())
    }

    @Test func `two laptops correcting different paragraphs offline both keep their correction`() throws {
        let (a, b) = (try temporaryStore(name: "a"), try temporaryStore(name: "b"))
        let id = try a.addArticle(try Self.corpusDraft()).id
        try Self.exchange(a, b)
        let base = try a.article(id).body
        var paragraphs = base.components(separatedBy: "\n")
        #expect(paragraphs.count > 3)
        var first = paragraphs, last = paragraphs
        first[1] = first[1] + " (تصحيح أ)"
        last[paragraphs.count - 1] = "(تصحيح ب) " + last[paragraphs.count - 1]
        try a.editArticle(id, [(ArticleFields.body, first.joined(separator: "\n"))])
        try b.editArticle(id, [(ArticleFields.body, last.joined(separator: "\n"))])
        try Self.exchange(a, b)
        paragraphs[1] += " (تصحيح أ)"
        paragraphs[paragraphs.count - 1] = "(تصحيح ب) " + paragraphs[paragraphs.count - 1]
        #expect(try a.article(id).body == paragraphs.joined(separator: "\n"))
        #expect(try b.article(id).body == paragraphs.joined(separator: "\n"))
        #expect(try a.conflicts().count == 0)
        #expect(try a.canonicalDump() == b.canonicalDump())
        #expect(try a.search("تصحيح").map(\.id) == [id])
    }

    @Test func `the same story captured twice offline is one body, and both laptops' edits land in it`() throws {
        let (a, b) = (try temporaryStore(name: "a"), try temporaryStore(name: "b"))
        let id = try a.addArticle(try Self.corpusDraft()).id
        #expect(try b.addArticle(try Self.corpusDraft()).id == id)
        let body = try a.article(id).body
        try a.editArticle(id, [(ArticleFields.body, "أ: " + body)])
        try b.editArticle(id, [(ArticleFields.body, body + "\nب: نهاية")])
        try Self.exchange(a, b)
        let merged = try a.article(id).body
        #expect(merged == "أ: " + body + "\nب: نهاية")
        #expect(try b.article(id).body == merged)
        #expect(try a.canonicalDump() == b.canonicalDump())
        #expect(try a.conflicts().fields.isEmpty)
    }

    @Test func `a rebuild reproduces every text state byte for byte`() throws {
        let (a, b) = (try temporaryStore(name: "a"), try temporaryStore(name: "b"))
        let id = try a.addArticle(try Self.corpusDraft()).id
        let note = try a.highlight(article: id, .quote("شارع الرشيد", occurrence: 1), note: "تحقق")
        try Self.exchange(a, b)
        let body = try a.article(id).body
        try a.editArticle(id, [(ArticleFields.body, String(body.dropLast(40)))])
        try b.editArticle(id, [(ArticleFields.body, "مقدمة. " + body)])
        try a.setNote(annotation: note, text: "تحقق من المصدر")
        try b.setNote(annotation: note, text: "لقد تحقق")
        try Self.exchange(a, b)
        let states = try Self.textStates(a)
        #expect(states.count == 2)
        #expect(try Self.textStates(b) == states)
        let dump = try a.canonicalDump()
        try a.rebuild()
        #expect(try Self.textStates(a) == states)
        #expect(try a.canonicalDump() == dump)
        #expect(try a.article(id).annotations.first?.note == "لقد تحقق من المصدر")
    }

    @Test func `an edit that arrives before the capture it builds on waits, across transactions, and then applies`() throws {
        let (a, b, c) = (try temporaryStore(name: "a"), try temporaryStore(name: "b"), try temporaryStore(name: "c"))
        let id = try a.addArticle(ArticleDraft(title: "عنوان", body: "نص المقال الأول")).id
        try Self.exchange(a, b)
        try b.editArticle(id, [(ArticleFields.body, "نص المقال الأول والمعدل")])
        let edits = try Self.ops(after: 0, of: b)
        try c.merge(edits)  // the character edit alone: no article yet, nothing to show
        #expect(try c.listArticles().isEmpty)
        #expect(try c.read { db in try Data.fetchOne(db, sql: "SELECT pending FROM text_states") } != nil)
        try c.merge(try a.ops())  // now the capture
        #expect(try c.article(id).body == "نص المقال الأول والمعدل")
        #expect(try c.read { db in try Data.fetchOne(db, sql: "SELECT pending FROM text_states") } == nil)
        try Self.exchange(b, c)
        #expect(try b.canonicalDump() == c.canonicalDump())
    }

    @Test func `a highlight shrinks with a partial delete, grows with text typed inside it, and detaches when its words go`() throws {
        let (a, b) = (try temporaryStore(name: "a"), try temporaryStore(name: "b"))
        let id = try a.addArticle(ArticleDraft(title: "عنوان", body: "one two three four five")).id
        let h = try a.highlight(article: id, .quote("two three four", occurrence: 1))
        try Self.exchange(a, b)
        // b types inside the highlight, a types at its edges, concurrently.
        try b.editArticle(id, [(ArticleFields.body, "one two and a half three four five")])
        try a.editArticle(id, [(ArticleFields.body, "one [two three four] five")])
        try Self.exchange(a, b)
        for store in [a, b] {
            let article = try store.article(id)
            #expect(article.body == "one [two and a half three four] five")
            #expect(article.annotations.first?.exact == "two and a half three four")
        }
        // A delete of its first words shrinks it to what survives.
        try a.editArticle(id, [(ArticleFields.body, "one [three four] five")])
        try Self.exchange(a, b)
        #expect(try b.article(id).annotations.first?.exact == "three four")
        // Deleting all of it detaches it: kept, marked, listed.
        try b.editArticle(id, [(ArticleFields.body, "one [] five")])
        try Self.exchange(a, b)
        for store in [a, b] {
            let annotation = try #require(try store.article(id).annotations.first)
            #expect(annotation.id == h)
            #expect(annotation.detached)
            #expect(annotation.start == 5 && annotation.end == 5)
            #expect(try store.conflicts().detached.map(\.annotation) == [h])
        }
        #expect(try a.canonicalDump() == b.canonicalDump())
    }

    @Test func `a whole body from a laptop of the previous version shows until the next character edit, which keeps it`() throws {
        let (a, old) = (try temporaryStore(name: "a"), try temporaryStore(name: "old"))
        let id = try a.addArticle(ArticleDraft(title: "عنوان", body: "first body")).id
        try a.editArticle(id, [(ArticleFields.body, "first body, edited")])
        try Self.exchange(a, old)
        // What a wave-1 laptop sends when it edits the body: one whole value, later.
        let register = try old.read { db in try MergeState.register(.article(id), "body", in: db) }
        let replaced = Op(
            id: OpID(replica: old.replica, counter: try old.ownOpCount() + 1), hlc: HLC.tick(last: try old.clock(), nowMillis: old.now()),
            body: .assign(.article(id), [FieldWrite("body", .string("second body, whole"), prev: register.prev(resolving: false))]))
        try a.merge([replaced])
        #expect(try a.article(id).body == "second body, whole")
        try a.editArticle(id, [(ArticleFields.body, "second body, whole, and edited")])
        #expect(try a.article(id).body == "second body, whole, and edited")
        let dump = try a.canonicalDump()
        try a.rebuild()
        let rebuilt = try a.canonicalDump()
        #expect(rebuilt == dump)
        if rebuilt != dump {
            let (x, y) = (dump.split(separator: "\n"), rebuilt.split(separator: "\n"))
            print("DIFF before:", x.filter { !y.contains($0) }, "after:", y.filter { !x.contains($0) })
        }
    }

    @Test func `two laptops editing a body an older laptop replaced wholesale keep it once, with both edits`() throws {
        let (a, b, old) = (try temporaryStore(name: "a"), try temporaryStore(name: "b"), try temporaryStore(name: "old"))
        let id = try a.addArticle(ArticleDraft(title: "عنوان", body: "the first body")).id
        try a.editArticle(id, [(ArticleFields.body, "the first body, edited")])
        try Self.exchange(a, old)
        try Self.exchange(a, b)
        let register = try old.read { db in try MergeState.register(.article(id), "body", in: db) }
        let replaced = Op(
            id: OpID(replica: old.replica, counter: 1), hlc: HLC.tick(last: try old.clock(), nowMillis: old.now() + 1_000),
            body: .assign(.article(id), [FieldWrite("body", .string("a second body"), prev: register.prev(resolving: false))]))
        try a.merge([replaced])
        try b.merge([replaced])
        try a.editArticle(id, [(ArticleFields.body, "A: a second body")])
        try b.editArticle(id, [(ArticleFields.body, "a second body :B")])
        try Self.exchange(a, b)
        #expect(try a.article(id).body == "A: a second body :B")
        #expect(try a.canonicalDump() == b.canonicalDump())
    }

    @Test func `upgrading a store that relayed text ops without applying them re-derives its bodies`() throws {
        let (a, b) = (try temporaryStore(name: "a"), try temporaryStore(name: "b"))
        let id = try a.addArticle(ArticleDraft(title: "عنوان", body: "نص المقال")).id
        try a.editArticle(id, [(ArticleFields.body, "نص المقال المعدل")])
        try Self.exchange(a, b)
        // Turn b back into a store of the version before: no text state, the captured body shown.
        try b.write { db in
            try db.execute(
                sql: """
                    DROP TABLE text_states;
                    ALTER TABLE annotations DROP COLUMN anchor;
                    ALTER TABLE annotations DROP COLUMN detached;
                    UPDATE articles SET body = 'نص المقال';
                    DELETE FROM grdb_migrations WHERE identifier = 'v5-text';
                    """)
        }
        let upgraded = try Store.open(at: b.path)
        #expect(try upgraded.article(id).body == "نص المقال المعدل")
        #expect(try upgraded.canonicalDump() == a.canonicalDump())
    }

    @Test func `an unchanged body sends nothing`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(ArticleDraft(title: "عنوان", body: "نص")).id
        let count = try store.ownOpCount()
        try store.editArticle(id, [(ArticleFields.body, "نص")])
        #expect(try store.ownOpCount() == count)
        #expect(try Self.textStates(store).isEmpty)
    }

    /// A JSON Lines line of the corpus article with one highlight, as another library exported it.
    static func importLine(_ highlight: [String: Any]) throws -> Data {
        let draft = try corpusDraft()
        var h = highlight
        h["kind"] = "highlight"
        let record: [String: Any] = ["url": url, "title": draft.title, "summary": draft.summary, "body": draft.body, "annotations": [h]]
        return try JSONSerialization.data(withJSONObject: record) + Data("\n".utf8)
    }

    @Test func `an imported highlight is re-anchored in the body as it is here, by position, quote or approximately`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(try Self.corpusDraft()).id
        let original = Array(try store.article(id).body.unicodeScalars)
        let quote = "شارع الرشيد"
        let at = try #require(Anchor.find(quote, in: String(String.UnicodeScalarView(original)), occurrence: 1))
        // Here the body has gained a sentence at the top since the other library exported it.
        let sentence = "تحديث: أكدت مصادر محلية صحة الخبر.\n"
        try store.editArticle(id, [(ArticleFields.body, sentence + String(String.UnicodeScalarView(original)))])
        let shift = sentence.unicodeScalars.count
        let cases: [(String, [String: Any])] = [
            ("exact quote, stale offsets", ["start": at.start, "end": at.end, "exact": quote]),
            ("a misspelt quote", ["start": at.start, "end": at.end, "exact": "شارع الرشيـد"]),
            ("a quote and no offsets", ["exact": quote]),
        ]
        for (name, highlight) in cases {
            let report = try store.importLibrary(try Store.parseLibrary(try Self.importLine(highlight)))
            #expect(report.annotations == 1, "\(name)")
        }
        let article = try store.article(id)
        #expect(article.annotations.count == 3)
        for a in article.annotations {
            #expect(a.start == at.start + shift && a.end == at.end + shift, "\(a)")
            #expect(a.exact == quote)
        }
        // Bound to characters like a highlight made here: an edit before it moves it along.
        try store.editArticle(id, [(ArticleFields.body, "— " + article.body)])
        #expect(try store.article(id).annotations.allSatisfy { $0.exact == quote && $0.start == at.start + shift + 2 })
        // A quote that is nowhere in the body is refused, and nothing of the line is written.
        let before = try store.canonicalDump()
        #expect(throws: StoreError.self) {
            try store.importLibrary(try Store.parseLibrary(try Self.importLine(["exact": "كلمات غير موجودة في هذا المقال على الإطلاق"])))
        }
        #expect(try store.canonicalDump() == before)
        // Nor when the highlight found nowhere is in a later transaction of a large import.
        var lines = Data(#"{"title":"مقال أول","body":"نص أول"}"#.utf8) + Data("\n".utf8)
        lines += try Self.importLine(["exact": "كلمات غير موجودة في هذا المقال على الإطلاق"])
        #expect(throws: StoreError.self) { try store.importLibrary(try Store.parseLibrary(lines), batchSize: 1) }
        #expect(try store.canonicalDump() == before)
    }

    @Test func `a wave-1 store's body becomes the start of its text, and its highlights follow their words`() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("articlesync-wave1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.sqlite").path
        try FileManager.default.copyItem(atPath: CLI.packageRoot.appendingPathComponent("Tests/Fixtures/wave1-store.sqlite3").path, toPath: path)
        let store = try Store.open(at: path)
        let summary = try #require(
            try store.listArticles().first { try !store.article($0.id).annotations.filter { $0.kind == .highlight }.isEmpty })
        let before = try store.article(summary.id)
        let highlights = before.annotations.filter { $0.kind == .highlight }
        let prefix = "مقدمة جديدة. "
        try store.editArticle(summary.id, [(ArticleFields.body, prefix + before.body)])
        let after = try store.article(summary.id)
        #expect(after.body == prefix + before.body)
        for h in highlights {
            let now = try #require(after.annotations.first { $0.id == h.id })
            #expect(now.exact == h.exact)
            #expect(now.start == h.start.map { $0 + prefix.unicodeScalars.count })
        }
        // The edit names the wave-1 body's characters by their genesis ids: one insert at the start.
        let last = try #require(try store.ops(replica: store.replica).last)
        guard case .text(_, "body", .insert(let insert)) = last.body else {
            Issue.record("expected a text insert, got \(last.body)")
            return
        }
        #expect(insert.right?.replica == TextGenesis.replica(of: .article(summary.id), field: "body", text: before.body))
        let dump = try store.canonicalDump()
        try store.rebuild()
        #expect(try store.canonicalDump() == dump)
    }
}
