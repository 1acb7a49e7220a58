public import Foundation
import GRDB
import SyncModel
import SyncWire

/// What an import did.
public struct ImportReport: Sendable, Equatable, Codable {
    public var articlesCreated = 0
    public var articlesExisting = 0
    public var collections = 0
    public var annotations = 0
    public var ops = 0
}

extension Store {
    /// Parses a JSON Lines library file completely before anything is written, so a malformed line
    /// (reported with its number) never leaves a partial import.
    public static func parseLibrary(_ data: Data) throws -> [(line: Int, record: LibraryRecord)] {
        let decoder = JSONDecoder()
        var records: [(Int, LibraryRecord)] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) { continue }
            let record: LibraryRecord
            do {
                record = try decoder.decode(LibraryRecord.self, from: Data(line))
            } catch {
                throw StoreError(.invalidData, "line \(lineNumber): not a valid library record (\(Self.describe(error)))")
            }
            try validate(record, line: lineNumber)
            records.append((lineNumber, record))
        }
        return records
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.dataCorrupted(let c) where !c.codingPath.isEmpty: return c.debugDescription
        case DecodingError.dataCorrupted: return "malformed JSON"
        default: return "\(error)"
        }
    }

    static func validate(_ r: LibraryRecord, line: Int) throws {
        func fail(_ why: String) -> StoreError { StoreError(.invalidData, "line \(line): \(why)") }
        switch r.kind {
        case .collection:
            guard let name = r.fields.string(CollectionFields.name), !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail("a collection needs a name")
            }
        case .article:
            guard let title = r.fields.string(ArticleFields.title), !title.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail("an article needs a title")
            }
            if let url = r.fields.string(ArticleFields.url), ArticleIdentity.canonicalURL(url) == nil {
                throw fail("'\(url)' is not an absolute http(s) URL")
            }
            let length = (r.fields.string(ArticleFields.body) ?? "").nfc.unicodeScalars.count
            for a in r.annotations ?? [] {
                let kind = a.fields.string(AnnotationFields.kind) ?? ""
                guard let known = Annotation.Kind(rawValue: kind) else {
                    throw fail("annotation kind must be highlight or note, not '\(kind)'")
                }
                if known == .highlight {
                    let quoted = !(a.fields.string(AnnotationFields.exact) ?? "").isEmpty
                    if let s = a.fields.int(AnnotationFields.start), let e = a.fields.int(AnnotationFields.end) {
                        // With a quote, the quote decides where it goes (the body may have changed).
                        guard s >= 0, e > s, quoted || e <= length else {
                            throw fail("highlight \(a.id ?? "") needs 0 <= start < end <= \(length) (body length)")
                        }
                    } else if !quoted {
                        throw fail("highlight \(a.id ?? "") needs start and end, or the quoted text (exact)")
                    }
                }
            }
            if (r.tags ?? []).contains(where: { Tag.normalize($0).isEmpty }) { throw fail("a tag cannot be empty") }
        }
    }

    /// Imports parsed records: collections first, then articles in transactions of `batchSize`
    /// articles. Articles already in the library are not duplicated.
    @discardableResult
    public func importLibrary(
        _ records: [(line: Int, record: LibraryRecord)], batchSize: Int = 500,
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> ImportReport {
        let name = try self.name()
        let now = Int64(self.now())
        let collections = records.map(\.record).filter { $0.kind == .collection }
        let articles = records.map(\.record).filter { $0.kind == .article }
        var report = ImportReport()
        try checkHighlights(articles)  // before any write: a highlight found nowhere leaves nothing imported
        let collectionOps = try local { w -> Int in
            let before = w.counter
            for c in collections {
                let id = c.id ?? newIdentifier()
                if try String.fetchOne(w.db, sql: "SELECT id FROM collections WHERE id = ?", arguments: [id]) != nil { continue }
                var fields = c.fields
                fields[CollectionFields.parent] = fields[CollectionFields.parent] ?? .string("")
                try w.emit(.assign(.collection(id), CollectionFields.all.compactMap { f in fields[f].map { FieldWrite(f.name, $0) } }))
            }
            return Int(w.counter - before)
        }
        report.collections = collections.count
        report.ops += collectionOps
        var done = 0
        for start in stride(from: 0, to: articles.count, by: batchSize) {
            let batch = Array(articles[start..<min(start + batchSize, articles.count)])
            let part = try local { w -> ImportReport in
                var part = ImportReport()
                let before = w.counter
                for r in batch { try Self.importArticle(r, &w, &part, name: name, now: now, newIdentifier: newIdentifier) }
                part.ops = Int(w.counter - before)
                return part
            }
            report.articlesCreated += part.articlesCreated
            report.articlesExisting += part.articlesExisting
            report.annotations += part.annotations
            report.ops += part.ops
            done += batch.count
            progress?(done, articles.count)
        }
        return report
    }

    static func importArticle(
        _ r: LibraryRecord, _ w: inout LocalWriter, _ report: inout ImportReport, name: String, now: Int64,
        newIdentifier: () -> String
    ) throws {
        let (id, created) = try emitArticle(
            &w, ArticleDraft(fields: r.fields), tags: try normalizedTags(r.tags ?? []),
            capturedAt: r.fields.int(ArticleFields.capturedAt) ?? now,
            capturedBy: r.fields.string(ArticleFields.capturedBy) ?? name)
        if created { report.articlesCreated += 1 } else { report.articlesExisting += 1 }
        let entity = EntityRef.article(id)
        // A reader's state (read, starred, in the trash) is imported when set, never unset.
        var flags: [FieldWrite] = []
        for field in ArticleFields.all where field.role == .userState && r.fields.bool(field) {
            if try w.register(entity, field.name).winner?.value != .bool(true) {
                flags.append(try w.write(entity, field.name, .bool(true)))
            }
        }
        for c in r.collections ?? [] {
            guard try String.fetchOne(w.db, sql: "SELECT id FROM collections WHERE id = ?", arguments: [c]) != nil else {
                throw StoreError(
                    .invalidData,
                    "article '\(r.fields.string(ArticleFields.title) ?? id)' names collection \(c), which is neither in the file nor in the library")
            }
            if !(try w.set(.collection(c), "members").elements.contains(id)) {
                try w.emit(.setAdd(.collection(c), set: "members", element: id))
            }
        }
        for a in r.annotations ?? [] {
            let annotationID = a.id ?? newIdentifier()
            if try String.fetchOne(w.db, sql: "SELECT id FROM annotations WHERE id = ?", arguments: [annotationID]) != nil { continue }
            var fields = a.fields
            fields[AnnotationFields.author] = fields[AnnotationFields.author] ?? .string(name)
            fields[AnnotationFields.createdAt] = fields[AnnotationFields.createdAt] ?? .int(now)
            if fields.string(AnnotationFields.kind) == Annotation.Kind.highlight.rawValue {
                try Self.anchorImported(&fields, annotationID, article: id, &w)
            }
            try w.emit(
                .assign(
                    .annotation(annotationID, article: id),
                    AnnotationFields.all.compactMap { f in fields[f].map { FieldWrite(f.name, $0) } }))
            report.annotations += 1
        }
        // The trash goes last so the article's own annotations above are work it has seen.
        if !flags.isEmpty {
            let trashing = flags.contains { $0.field == ArticleFields.trashed.name }
            try w.emit(.assign(entity, flags), context: trashing ? try OpLog.versionVector(in: w.db).including(w.counter, of: w.replica) : nil)
        }
    }
}

extension VersionVector {
    func including(_ counter: UInt64, of replica: ReplicaID) -> VersionVector {
        var copy = self
        copy[replica] = Swift.max(copy[replica], counter)
        return copy
    }
}

extension Store {
    /// Binds an imported highlight to the characters of the article's body as it is here (which
    /// may differ from the body it was made on: the article was already in the library and has
    /// been edited since). Found by ``QuoteMatch``: its position if the quote is still there,
    /// else the quote where its context fits best, else an approximate match; a highlight
    /// without a quote goes by its offsets. Its selectors are then re-derived from this body.
    static func anchorImported(_ fields: inout FieldValues, _ annotationID: String, article id: String, _ w: inout LocalWriter) throws {
        // Read the body from the merge state: the article row is only materialized when the
        // batch's transaction finishes.
        guard let body = try w.materializer.bodyForPlacing(id) else {
            throw StoreError(.invalidData, "highlight \(annotationID) is on article \(id), which has no body")
        }
        guard let range = importedRange(fields, in: Array(body.string.unicodeScalars)), let anchor = body.text.anchor(for: range)
        else { throw notFound(fields, annotationID, article: id) }
        Materializer.setSelectors(&fields, range, in: body.string)
        fields[AnnotationFields.anchor] = try w.materializer.anchorToWrite(anchor, range, exact: fields.string(AnnotationFields.exact) ?? "", in: id)
        // Its context is derived from the body wherever it is placed, as for a new highlight.
        fields[AnnotationFields.prefix] = nil
        fields[AnnotationFields.suffix] = nil
    }

    /// Where an imported highlight goes in `text` (``QuoteMatch``, or its offsets without a quote).
    static func importedRange(_ fields: FieldValues, in text: [Unicode.Scalar]) -> Range<Int>? {
        let start = fields.int(AnnotationFields.start).map(Int.init)
        let end = fields.int(AnnotationFields.end).map(Int.init)
        if let exact = fields.string(AnnotationFields.exact), !exact.isEmpty {
            return QuoteMatch.locate(
                exact: Array(exact.unicodeScalars), prefix: Array((fields.string(AnnotationFields.prefix) ?? "").unicodeScalars),
                suffix: Array((fields.string(AnnotationFields.suffix) ?? "").unicodeScalars), position: start, in: text)?.range
        }
        guard let start, let end, start >= 0, start < end, end <= text.count else { return nil }
        return start..<end
    }

    static func notFound(_ fields: FieldValues, _ annotationID: String, article id: String) -> StoreError {
        let quote = fields.string(AnnotationFields.exact).map { " «\($0)»" } ?? ""
        return StoreError(.invalidData, "highlight \(annotationID)\(quote) is not in the body of article \(id), not even approximately")
    }

    /// Finds every highlight of `articles` in the body it will be placed in (the library's, for
    /// an article already here; else the first record's), in one read before the import writes.
    func checkHighlights(_ articles: [LibraryRecord]) throws {
        let records = articles.filter { ($0.annotations ?? []).contains { $0.fields.string(AnnotationFields.kind) == "highlight" } }
        guard !records.isEmpty else { return }
        try read { db in
            var m = Materializer(db)
            var bodies: [String: [Unicode.Scalar]] = [:]
            for r in records {
                let draft = ArticleDraft(fields: r.fields)
                let id = draft.id
                if bodies[id] == nil {
                    let here = try m.bodyForPlacing(id)?.string
                    bodies[id] = Array((here ?? draft.body.nfc).unicodeScalars)
                }
                for a in r.annotations ?? [] where a.fields.string(AnnotationFields.kind) == "highlight" {
                    if Self.importedRange(a.fields, in: bodies[id]!) == nil {
                        throw Self.notFound(a.fields, a.id ?? "(new)", article: id)
                    }
                }
            }
        }
    }
}
