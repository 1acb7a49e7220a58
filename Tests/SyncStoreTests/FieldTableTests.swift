import Foundation
import GRDB
import SyncModel
import TestHarness
import Testing

@testable import SyncStore

/// The field tables (SyncModel, `Fields.swift`) are the one list of fields: the frozen schema
/// migrations must have created exactly their columns, and the rules read them.
@Suite struct FieldTableTests {
    @Test func `every materialized table has exactly the columns of its field table`() throws {
        let store = try temporaryStore()
        let columns = try store.read { db in
            try ["articles", "collections", "annotations"].map { table in Set(try db.columns(in: table).map(\.name)) }
        }
        #expect(columns[0] == Set(ArticleFields.all.map(\.name) + ["rowid", "id", "trash_conflict"]))
        #expect(columns[1] == Set(CollectionFields.all.map(\.name) + ["id"]))
        #expect(columns[2] == Set(AnnotationFields.all.map(\.name) + ["id", "article", "detached"]))
    }

    @Test func `the rules follow each field's role`() {
        #expect(ArticleFields.all.filter { !$0.countsAsWork }.map(\.name) == ["read", "starred", "trashed"])
        #expect(ArticleFields.all.filter { !$0.reportsConflicts }.map(\.name) == ["captured_at", "captured_by"])
        #expect(ArticleFields.editable.map(\.name) == ["url", "title", "summary", "body", "byline", "source", "published_at", "language"])
        let reading = OpBody.assign(.article("a"), [FieldWrite("read", .bool(true)), FieldWrite("starred", .bool(true))])
        #expect(!TrashRule.isWork(reading))
        #expect(TrashRule.isWork(.assign(.article("a"), [FieldWrite("read", .bool(true)), FieldWrite("byline", .string("x"))])))
        // A field a newer version added counts as what its author wrote: work.
        #expect(TrashRule.isWork(.assign(.article("a"), [FieldWrite("subtitle", .string("x"))])))
    }

    @Test func `a JSON Lines value of the wrong type is refused with its line and key`() throws {
        let data = Data("{\"title\":\"ok\"}\n{\"title\":\"T\",\"read\":\"yes\"}\n".utf8)
        #expect { try Store.parseLibrary(data) } throws: { error in
            let reason = (error as? StoreError)?.reason ?? ""
            return reason.hasPrefix("line 2:") && reason.contains("read")
        }
        let unknown = Data("{\"type\":\"podcast\",\"title\":\"T\"}\n".utf8)
        #expect { try Store.parseLibrary(unknown) } throws: {
            (($0 as? StoreError)?.reason ?? "").contains("unknown record type 'podcast'")
        }
    }

    @Test func `values of the wrong type are shown empty, and an annotation without a valid kind does not exist`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(ArticleDraft(title: "غزة", body: "نص")).id
        let peer = ReplicaID.random()
        var hlc = HLC(millis: Store.systemClock() + 1_000)
        var counter: UInt64 = 0
        func op(_ body: OpBody) -> Op {
            counter += 1
            hlc = HLC.tick(last: hlc, nowMillis: hlc.millis)
            return Op(id: OpID(replica: peer, counter: counter), hlc: hlc, body: body, countsAsWork: true)
        }
        // A buggy or newer peer writes a number as the title and a string as the read flag, and
        // an annotation whose kind is a number: the library shows empty values, not a crash or a
        // number where text belongs, and the annotation does not exist.
        try store.merge([
            op(.assign(.article(id), [FieldWrite("title", .int(7)), FieldWrite("read", .string("yes"))])),
            op(.assign(.annotation("n1", article: id), [FieldWrite("kind", .int(1)), FieldWrite("text", .string("x"))])),
        ])
        let article = try store.article(id)
        #expect(article.title == "" && article.body == "نص" && article.read == false)
        #expect(try store.counts()["annotations"] == 0)
    }
}
