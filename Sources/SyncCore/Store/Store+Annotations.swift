import Foundation
import GRDB
import SyncModel
import SyncWire

/// Where a highlight goes: a quote to find, or explicit offsets.
public enum HighlightTarget: Sendable {
    /// The `occurrence`-th (1-based) occurrence of `quote` in the article body.
    case quote(String, occurrence: Int)
    /// Unicode scalar offsets into the NFC body, `start` inclusive, `end` exclusive.
    case range(start: Int, end: Int)
}

extension Store {
    /// Highlights a passage; returns the annotation id.
    @discardableResult
    public func highlight(article id: String, _ target: HighlightTarget, note: String? = nil, color: String? = nil) throws -> String {
        let annotation = newIdentifier()
        let author = try name()
        let now = Int64(self.now())
        try local { w in
            try Self.requireArticle(id, w.db)
            // The body as it shows, with the characters a highlight binds to.
            let placing = try w.materializer.bodyForPlacing(id)
            let body = placing?.string ?? ""
            let range: (start: Int, end: Int)
            switch target {
            case .quote(let quote, let occurrence):
                guard let found = Anchor.find(quote, in: body, occurrence: occurrence) else {
                    let what = occurrence == 1 ? "" : " (occurrence \(occurrence))"
                    throw StoreError(.invalidInput, "quote not found in article \(id)\(what): check the text or use --start/--end")
                }
                range = found
            case .range(let start, let end):
                range = (start, end)
            }
            guard let selector = Anchor.selector(start: range.start, end: range.end, in: body),
                let anchor = placing?.text.anchor(for: range.start..<range.end)
            else {
                throw StoreError(
                    .invalidInput, "range \(range.start)..<\(range.end) is outside the article body (\(body.unicodeScalars.count) characters)")
            }
            // No prefix or suffix: every store derives them from the body around the highlight's
            // characters (Protocol.md, "Highlights"), so they would only be bytes on the wire.
            var writes = [
                FieldWrite("kind", .string("highlight")), FieldWrite("start", .int(Int64(range.start))),
                FieldWrite("end", .int(Int64(range.end))), FieldWrite("exact", .string(selector.exact)),
                FieldWrite("author", .string(author)), FieldWrite("created_at", .int(now)),
            ]
            if let written = try w.materializer.anchorToWrite(anchor, range.start..<range.end, exact: selector.exact, in: id) {
                writes.append(FieldWrite("anchor", written))
            }
            if let note { writes.append(FieldWrite("note", .string(note))) }
            if let color { writes.append(FieldWrite("color", .string(color))) }
            try w.emit(.assign(.annotation(annotation, article: id), writes))
        }
        return annotation
    }

    /// Adds a free note to an article; returns the annotation id.
    @discardableResult
    public func addNote(article id: String, text: String) throws -> String {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw StoreError(.invalidInput, "a note cannot be empty")
        }
        let annotation = newIdentifier()
        let author = try name()
        let now = Int64(self.now())
        try local { w in
            try Self.requireArticle(id, w.db)
            try w.emit(
                .assign(
                    .annotation(annotation, article: id),
                    [
                        FieldWrite("kind", .string("note")), FieldWrite("note", .string(text)),
                        FieldWrite("author", .string(author)), FieldWrite("created_at", .int(now)),
                    ]))
        }
        return annotation
    }

    /// Sets the note text of an existing annotation, by character edits (two laptops editing one
    /// note offline keep both edits).
    public func setNote(annotation id: String, text: String) throws {
        try local { w in
            let entity = try Self.requireAnnotation(id, w.db)
            try Self.requireArticle(entity.parent, w.db)
            try w.editText(entity, AnnotationFields.note, to: text)  // character edits: concurrent note edits merge
        }
    }

    /// Removes a highlight or note. Like every edit, refused while its article is in the trash:
    /// the removal would count as work the trash had not seen (a self-inflicted trash conflict).
    public func removeAnnotation(_ id: String) throws {
        try local { w in
            let entity = try Self.requireAnnotation(id, w.db)
            try Self.requireArticle(entity.parent, w.db)
            try w.emit(.assign(entity, [try w.write(entity, "removed", .bool(true))]))
        }
    }

    static func requireAnnotation(_ id: String, _ db: Database) throws -> EntityRef {
        guard let row = try Row.fetchOne(db, sql: "SELECT article, removed FROM annotations WHERE id = ?", arguments: [id]),
            row["removed"] as Bool == false
        else {
            throw StoreError(.notFound, "no annotation \(id) (see `synccli show ARTICLE`)")
        }
        return .annotation(id, article: row["article"])
    }
}
