import Foundation
import SyncModel
import SyncWire
import TestHarness
import Testing

@testable import SyncStore

@Suite struct StoreTests {
    @Test func `an added article can be read back with tags and highlights`() throws {
        let store = try temporaryStore()
        let text = try seedArticle()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let (id, created) = try store.addArticle(
            ArticleDraft(
                url: "https://www.almayadeen.net/news/1?utm_source=x", title: lines[0], summary: lines[1],
                body: lines.dropFirst(2).joined(separator: "\n")), tags: ["غزة", "Breaking"])
        #expect(created)
        let h = try store.highlight(article: id, .quote("مخيم المغازي", occurrence: 1), note: "تحقق من المصدر")
        let article = try store.article(id)
        #expect(article.title == lines[0])
        #expect(article.tags == ["breaking", "غزة"])
        #expect(article.annotations.map(\.id) == [h])
        #expect(article.annotations[0].exact == "مخيم المغازي")
        #expect(article.url == "https://www.almayadeen.net/news/1")
    }

    @Test func `rebuilding from the op log gives identical state`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(ArticleDraft(title: "عنوان", body: "نص المقال عن غزة"), tags: ["a", "b"]).id
        try store.removeTags(["a"], from: id)
        try store.editArticle(id, [(ArticleFields.title, "عنوان جديد")])
        let c = try store.createCollection(name: "Gaza")
        try store.addToCollection(c, articles: [id])
        _ = try store.highlight(article: id, .quote("غزة", occurrence: 1))
        try store.trash(id)
        let before = try store.canonicalDump()
        try store.rebuild()
        #expect(try store.canonicalDump() == before)
        #expect(before.contains("عنوان جديد"))
    }

    @Test func `two stores exchanging ops converge`() throws {
        let a = try temporaryStore(name: "A"), b = try temporaryStore(name: "B")
        let id = try a.addArticle(ArticleDraft(url: "https://example.com/x", title: "T", body: "body text")).id
        try b.merge(try a.ops())
        try a.editArticle(id, [(ArticleFields.title, "from A")])
        try b.editArticle(id, [(ArticleFields.title, "from B")])
        try b.addTags(["x"], to: id)
        try a.merge(try b.ops(since: try a.versionVector()))
        try b.merge(try a.ops(since: try b.versionVector()))
        #expect(try a.canonicalDump() == b.canonicalDump())
        let conflicts = try a.conflicts()
        #expect(conflicts.fields.count == 1)
        #expect(conflicts.fields.first?.field == "title")
    }

    @Test func `ops of a kind from a newer format are stored and passed on, not dropped`() throws {
        let a = try temporaryStore(name: "A"), b = try temporaryStore(name: "B")
        let future = ReplicaID.random()
        let unknown = Op(
            id: OpID(replica: future, counter: 1), hlc: HLC(millis: Store.systemClock()),
            body: .unknown(kind: 42, entity: .article("a-future"), payload: [1, 2, 3, 0xff]), countsAsWork: true)
        let report = try a.applyChangesets(try Changeset.encode([unknown]))
        #expect(report.applied == 1)
        #expect(try a.versionVector()[future] == 1)
        let dumpBefore = try a.canonicalDump()
        // relayed to B through a changeset file, byte for byte
        let file = try a.exportChangesets(since: try b.versionVector())
        try b.applyChangesets(file.bytes)
        #expect(try b.ops(replica: future) == [unknown])
        #expect(try a.canonicalDump() == dumpBefore)
        try a.rebuild()
        #expect(try a.canonicalDump() == dumpBefore)
    }

    @Test func `annotations of an article in the trash cannot be removed or edited until it is restored`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(ArticleDraft(title: "T", body: "غزة اليوم")).id
        let highlight = try store.highlight(article: id, .quote("غزة", occurrence: 1), note: "check")
        try store.trash(id)
        let ops = try store.counts()["ops"]
        #expect { try store.removeAnnotation(highlight) } throws: { ($0 as? StoreError)?.code == .trashed }
        #expect { try store.setNote(annotation: highlight, text: "x") } throws: { ($0 as? StoreError)?.code == .trashed }
        #expect(try store.counts()["ops"] == ops, "a refused command writes nothing")
        #expect(try store.conflicts().trash.isEmpty, "no self-inflicted trash conflict")
        try store.restore(id)
        try store.removeAnnotation(highlight)
        #expect(try store.article(id).annotations.isEmpty)
    }
}
