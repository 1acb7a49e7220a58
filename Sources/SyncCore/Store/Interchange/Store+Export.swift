import Foundation
import GRDB
import SyncModel
import SyncWire

extension Store {
    /// Streams the library as ``LibraryRecord``s: collections (parents before children), then
    /// every article including the trash, with tags, collections and live annotations. Importing
    /// them into an empty store reproduces the library.
    public func exportRecords(_ emit: (LibraryRecord) throws -> Void) throws {
        let collections = try self.collections(includeDeleted: false)
        var placed = Set<String>()
        var pending = collections
        while !pending.isEmpty {
            let ready = pending.filter { c in
                guard let parent = c.parent else { return true }
                return placed.contains(parent) || !collections.contains { $0.id == parent }
            }
            // A cycle left by concurrent moves: emit the rest as they are rather than loop.
            let batch = ready.isEmpty ? pending : ready
            for c in batch {
                var fields = FieldValues()
                fields[CollectionFields.name] = .string(c.name)
                fields[CollectionFields.parent] = c.parent.map(Value.string)
                fields[CollectionFields.description] = c.description.map(Value.string)
                try emit(LibraryRecord(kind: .collection, id: c.id, fields: fields))
                placed.insert(c.id)
            }
            pending.removeAll { placed.contains($0.id) }
        }
        let ids = try read { db in try String.fetchAll(db, sql: "SELECT id FROM articles ORDER BY captured_at, id") }
        for id in ids { try emit(try record(ofArticle: id)) }
    }

    /// An article as JSON Lines carries it: every field, tags, the ids of its live collections,
    /// its live annotations.
    func record(ofArticle id: String) throws -> LibraryRecord {
        try read { db in
            let a = try ArticleRows(id, db)
            return LibraryRecord(
                kind: .article, id: id, fields: FieldValues(row: a.row, ArticleFields.all), tags: a.tags,
                collections: a.collections.map(\.id).sorted(),
                annotations: a.annotations.map {
                    LibraryRecord.AnnotationRecord(id: $0["id"], fields: FieldValues(row: $0, AnnotationFields.interchange))
                })
        }
    }

    /// One Markdown document per article, highlights quoted with their notes.
    public func exportMarkdown(_ emit: (String) throws -> Void) throws {
        let ids = try read { db in try String.fetchAll(db, sql: "SELECT id FROM articles WHERE trashed = 0 ORDER BY captured_at, id") }
        for id in ids {
            let a = try article(id)
            var md = "# \(a.title)\n\n"
            md += a.metadata.map { "- \($0.label): \($0.value)" }.joined(separator: "\n") + "\n\n"
            if !a.summary.isEmpty { md += "**\(a.summary)**\n\n" }
            md += a.body.split(separator: "\n").joined(separator: "\n\n") + "\n"
            if !a.annotations.isEmpty {
                md += "\n## Highlights and notes\n\n"
                for n in a.annotations {
                    if let exact = n.exact { md += "> \(exact)\n" }
                    if let note = n.note { md += (n.exact == nil ? "" : "\n") + "\(note)" + (n.author.map { " — \($0)" } ?? "") + "\n" }
                    md += "\n"
                }
            }
            try emit(md + "\n---\n\n")
        }
    }
}
