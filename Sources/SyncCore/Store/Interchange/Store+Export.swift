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
                var r = LibraryRecord()
                r.type = "collection"; r.id = c.id; r.name = c.name; r.parent = c.parent; r.description = c.description
                try emit(r)
                placed.insert(c.id)
            }
            pending.removeAll { placed.contains($0.id) }
        }
        let ids = try read { db in try String.fetchAll(db, sql: "SELECT id FROM articles ORDER BY captured_at, id") }
        for id in ids {
            let a = try article(id)
            var r = LibraryRecord()
            r.id = a.id; r.url = a.url; r.title = a.title; r.summary = a.summary; r.body = a.body; r.byline = a.byline
            r.source = a.source; r.published_at = a.publishedAt; r.language = a.language; r.captured_at = a.capturedAt
            r.captured_by = a.capturedBy; r.read = a.read; r.starred = a.starred; r.trashed = a.trashed; r.tags = a.tags
            r.collections = try read { db in
                try String.fetchAll(db, sql: """
                    SELECT m.collection FROM memberships m JOIN collections c ON c.id = m.collection
                    WHERE m.article = ? AND c.trashed = 0 ORDER BY m.collection
                    """, arguments: [id])
            }
            r.annotations = a.annotations.map {
                LibraryRecord.AnnotationRecord(id: $0.id, kind: $0.kind.rawValue, start: $0.start, end: $0.end,
                                               exact: $0.exact, prefix: $0.prefix, suffix: $0.suffix, note: $0.note,
                                               color: $0.color, author: $0.author, created_at: $0.createdAt)
            }
            try emit(r)
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
