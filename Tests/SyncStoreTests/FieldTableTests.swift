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
        #expect(columns[2] == Set(AnnotationFields.all.map(\.name) + ["id", "article"]))
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
}
