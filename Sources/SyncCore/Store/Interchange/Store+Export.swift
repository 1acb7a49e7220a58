import Foundation
import GRDB
public import SyncModel
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
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM articles WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no article \(id) in this library (see `synccli list`)")
            }
            let tags = try String.fetchAll(db, sql: "SELECT tag FROM tags WHERE article = ? ORDER BY tag", arguments: [id])
            let collections = try String.fetchAll(
                db,
                sql: """
                    SELECT m.collection FROM memberships m JOIN collections c ON c.id = m.collection
                    WHERE m.article = ? AND c.trashed = 0 ORDER BY m.collection
                    """, arguments: [id])
            let annotations = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM annotations WHERE article = ? AND removed = 0 ORDER BY coalesce(start, -1), created_at, id
                    """, arguments: [id]
            ).map {
                LibraryRecord.AnnotationRecord(id: $0["id"], fields: FieldValues(row: $0, AnnotationFields.interchange))
            }
            return LibraryRecord(
                kind: .article, id: id, fields: FieldValues(row: row, ArticleFields.all), tags: tags,
                collections: collections, annotations: annotations)
        }
    }

    /// One Markdown document per article, highlights quoted with their notes.
    public func exportMarkdown(_ emit: (String) throws -> Void) throws {
        let ids = try read { db in try String.fetchAll(db, sql: "SELECT id FROM articles WHERE trashed = 0 ORDER BY captured_at, id") }
        for id in ids {
            let a = try article(id)
            var md = "# \(a.title)\n\n"
            var meta: [String] = ["id: \(a.id)"]
            if let url = a.url { meta.append("url: \(url)") }
            if let s = a.source { meta.append("source: \(s)") }
            if let b = a.byline { meta.append("byline: \(b)") }
            if let p = a.publishedAt { meta.append("published: \(p)") }
            if !a.tags.isEmpty { meta.append("tags: \(a.tags.joined(separator: ", "))") }
            if !a.collections.isEmpty { meta.append("collections: \(a.collections.joined(separator: ", "))") }
            md += meta.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
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
