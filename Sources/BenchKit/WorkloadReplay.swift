public import Foundation
public import SyncModel
public import SyncStore
import SyncWire

// MARK: - The workload document

/// The standard bench workload written by `scripts/bench/workload.py` (a copy of
/// `shared/bench/workload.py`): `meta`, `base` (imported on replica A), `streams` (offline edits
/// per replica) and `conflicts` (the deliberately concurrent cases).
///
/// ```swift
/// let workload = try Workload.load(from: URL(fileURLWithPath: "w.json"))
/// let replay = WorkloadReplay(workload)
/// try replay.replayBase(on: a)                  // importLibrary of the base on replica A
/// let report = try replay.replayStream("B", on: b)
/// ```
public struct Workload: Decodable, Sendable {
    public struct Meta: Decodable, Sendable {
        public var generator_version: Int
        public var seed: Int
        public var n_articles: Int
        public var n_collections: Int
        public var replicas: [String]
        public var n_base_ops: Int
        public var n_stream_ops: [String: Int]
        public var seed_text_sha256: String?
    }

    /// Every op is a flat object; which fields are present depends on `op` (the docstring of
    /// workload.py lists them).
    public struct Op: Decodable, Sendable {
        public var op: String
        public var r: String
        public var ts: Int64
        public var seq: Int
        // article.create / collection.create / ann.add: the workload's own id
        public var id: String?
        public var title: String?
        public var summary: String?
        public var body: String?
        public var source_url: String?
        public var published_at: String?
        public var language: String?
        public var tags: [String]?
        public var name: String?
        public var members: [String]?
        // edits
        public var a: String?
        public var c: String?
        public var field: String?
        public var value: String?
        public var pos: Int?
        public var del: Int?
        public var ins: String?
        public var pos8: Int?
        public var del8: Int?
        public var tag: String?
        public var kind: String?
        public var quote: String?
        public var start: Int?
        public var end: Int?
        public var note: String?
        public var author: String?
        public var created_at: String?
    }

    public struct Conflicts: Decodable, Sendable {
        /// Articles whose title A and B set concurrently.
        public var field: [String]
        /// Articles whose summary A, B and C set concurrently.
        public var summary3: [String]
        /// `[article, tag]`: A removes the tag (present in base) while B (re-)adds it.
        public var tag: [[String]]
        /// Articles A trashes while C annotates them and B edits their title.
        public var del_ann: [String]
        /// Articles whose body A and B splice concurrently (different / same position).
        public var splice: [String]
        public var splice_same_pos: [String]
    }

    public var meta: Meta
    public var base: [Op]
    public var streams: [String: [Op]]
    public var conflicts: Conflicts

    public static func load(from url: URL) throws -> Workload {
        try decode(Data(contentsOf: url))
    }

    public static func decode(_ data: Data) throws -> Workload {
        try JSONDecoder().decode(Workload.self, from: data)
    }

    /// Stream ops of every replica, in replica order.
    public var streamOpCount: Int { streams.values.reduce(0) { $0 + $1.count } }
}

// MARK: - Report

/// What replaying one stream did.
public struct ReplayReport: Sendable, CustomStringConvertible {
    public var replica: String = ""
    /// Workload ops replayed through the Store API, per workload op kind (`ann.add` …).
    public var applied: [String: Int] = [:]
    /// Ops refused by the store (or whose target is unknown), per `kind/reason`
    /// (`tag.remove/not_found`, `ann.note/trashed`, `ann.note/unknown_annotation` …).
    public var skipped: [String: Int] = [:]
    /// Applied calls that emitted no op (e.g. adding a tag the article already has), per kind.
    public var noOps: [String: Int] = [:]
    /// Store ops emitted by this stream.
    public var emittedOps = 0
    /// `body.splice` ops, replayed through `editArticle(.body)`: character edits since wave 2 (whole-body LWW writes in wave 1).
    public var bodySplices = 0
    /// Sum of the UTF-8 lengths of the splices' `ins` / of the deleted text (`del8`).
    public var spliceInsertedBytes = 0
    public var spliceDeletedBytes = 0
    /// UTF-8 bytes of the whole bodies those splices wrote.
    public var spliceBodyBytes = 0
    /// Encoded size of the store ops the splices emitted: uncompressed op bodies, and each op
    /// alone as a zlib changeset frame (82-byte header included).
    public var spliceOpBytes = 0
    public var spliceFrameBytes = 0
    /// The store ops the splices emitted (for ``ChangesetSize/marginalBytes(of:in:)``).
    public var spliceOps: [OpID] = []
    /// Per article (this library's id), the text each splice inserted, in stream order.
    public var spliceInserts: [String: [String]] = [:]
    /// Splices whose `pos8`/`del8` disagree with the local body (our body is not the one the
    /// generator saw: a replay bug).
    public var spliceOffsetMismatches = 0
    /// Highlights whose stored quote differs from the workload's `quote`.
    public var anchorMismatches = 0
    public var seconds = 0.0
    /// Wall time spent in the Store calls, per workload op kind (applied and skipped alike).
    public var secondsByKind: [String: Double] = [:]

    public var totalApplied: Int { applied.values.reduce(0, +) }
    public var totalSkipped: Int { skipped.values.reduce(0, +) }

    public var description: String {
        func list(_ d: [String: Int]) -> String {
            d.isEmpty ? "none" : d.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        let perOp = secondsByKind.keys.sorted().map { kind in
            let calls = (applied[kind] ?? 0) + skipped.filter { $0.key.hasPrefix(kind + "/") }.values.reduce(0, +)
            return "\(kind)=" + String(format: "%.1f", 1000 * secondsByKind[kind]! / Double(max(1, calls)))
        }.joined(separator: " ")
        return """
            replica \(replica): \(totalApplied) applied, \(totalSkipped) skipped, \(emittedOps) store ops, \
            \(String(format: "%.2f", seconds)) s
              applied: \(list(applied))
              skipped: \(list(skipped))
              no-ops:  \(list(noOps))
              ms/op:   \(perOp)
              body splices: \(bodySplices) (ins \(spliceInsertedBytes) B, del \(spliceDeletedBytes) B; as whole \
            bodies \(spliceBodyBytes) B); ops \(spliceOpBytes) B raw, \(spliceFrameBytes) B as single-op frames; \
            offset mismatches \(spliceOffsetMismatches), anchor mismatches \(anchorMismatches)
            """
    }
}

public struct ReplayError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

// MARK: - Replay

/// Replays a ``Workload`` onto stores through the public ``Store`` API.
///
/// The id maps are shared by all replicas: article ids are derived (``ArticleIdentity``) from
/// `source_url`, collections keep the workload's ids (the base is imported on A and synced), and
/// annotation ids are recorded as replicas create them (workload ann ids are unique).
public final class WorkloadReplay {
    public let workload: Workload
    /// workload article id → our article id (every `article.create`, base and streams).
    public private(set) var articleIDs: [String: String] = [:]
    /// workload collection id → our collection id.
    public private(set) var collectionIDs: [String: String] = [:]
    /// workload annotation id → our annotation id (filled as streams are replayed).
    public private(set) var annotationIDs: [String: String] = [:]
    /// When set, the stores' clock: set to the base's first `ts` for the import and to each
    /// stream op's `ts` before it is replayed (see ``Deterministic``).
    public var clock: WorkloadClock?

    public init(_ workload: Workload) {
        self.workload = workload
        for op in workload.base + workload.streams.values.joined() where op.op == "article.create" {
            if let id = op.id { articleIDs[id] = Self.draft(op).id }
        }
    }

    /// Our id of a workload article.
    public func articleID(_ workloadID: String) -> String? { articleIDs[workloadID] }

    static func draft(_ op: Workload.Op) -> ArticleDraft {
        ArticleDraft(
            url: op.source_url, title: op.title ?? "", summary: op.summary ?? "", body: op.body ?? "",
            publishedAt: op.published_at, language: op.language)
    }

    /// The base as import records: collections first (keeping the workload's ids), then articles
    /// with their tags and collections; `captured_at` is the op's `ts`. Same shape as
    /// `scripts/workload_to_jsonl.py` writes.
    public func libraryRecords() -> [LibraryRecord] {
        var memberOf: [String: [String]] = [:]
        var records: [LibraryRecord] = []
        for op in workload.base where op.op == "collection.create" {
            var fields = FieldValues()
            fields[CollectionFields.name] = op.name.map(Value.string)
            records.append(LibraryRecord(kind: .collection, id: op.id, fields: fields))
            for m in op.members ?? [] { memberOf[m, default: []].append(op.id!) }
        }
        for op in workload.base where op.op == "article.create" {
            var fields = Self.draft(op).fields
            fields[ArticleFields.capturedAt] = .int(op.ts)
            records.append(LibraryRecord(kind: .article, fields: fields, tags: op.tags, collections: memberOf[op.id!]?.sorted()))
        }
        return records
    }

    /// Imports the base on `store` (replica A) through ``Store/importLibrary(_:batchSize:progress:)``.
    @discardableResult
    public func replayBase(on store: Store) throws -> ImportReport {
        let records = libraryRecords()
        if let first = workload.base.first { clock?.set(UInt64(first.ts)) }
        let report = try store.importLibrary(records.enumerated().map { (line: $0.offset + 1, record: $0.element) })
        for r in records where r.kind == .collection { collectionIDs[r.id!] = r.id! }
        return report
    }

    /// Replays `streams[replica]` on `store`, op by op, as a reporter on that laptop would.
    /// Ops the store refuses by design are counted in ``ReplayReport/skipped``, never thrown;
    /// anything else the store throws (I/O, a corrupt store) is rethrown.
    public func replayStream(_ replica: String, on store: Store) throws -> ReplayReport {
        guard let ops = workload.streams[replica] else { throw ReplayError("no stream \(replica) in the workload") }
        let started = Date()
        var report = ReplayReport()
        report.replica = replica
        var counter = try store.versionVector()[store.replica]
        var highlights: [(article: String, annotation: String, quote: String)] = []
        /// Highlights made before a later splice of their article's body: they follow their words
        /// (grow, shrink), so their quote is checked against the body, not the generator's.
        var spliced: Set<String> = []

        for op in ops {
            let kind = op.op
            clock?.set(UInt64(op.ts))
            let opStarted = Date()
            defer { report.secondsByKind[kind, default: 0] += Date().timeIntervalSince(opStarted) }
            do {
                var spliceBytes: (ins: Int, del: Int, body: Int)?
                switch kind {
                case "article.create":
                    let id = try store.addArticle(Self.draft(op), tags: op.tags ?? [], capturedAt: op.ts).id
                    articleIDs[op.id!] = id
                case "collection.create":
                    let id = try store.createCollection(name: op.name ?? "")
                    collectionIDs[op.id!] = id
                    if let members = op.members, !members.isEmpty {
                        try store.addToCollection(id, articles: try members.map(article))
                    }
                case "article.set":
                    guard let name = op.field, let field = Self.field(name) else {
                        throw Skip("unknown_field")
                    }
                    try store.editArticle(try article(op.a), [(field, op.value ?? "")])
                case "body.splice":
                    let id = try article(op.a)
                    let body = try store.article(id).body
                    var scalars = Array(body.unicodeScalars)
                    let pos = op.pos ?? 0, del = op.del ?? 0
                    guard pos >= 0, del >= 0, pos + del <= scalars.count else { throw Skip("out_of_range") }
                    let ins = op.ins ?? ""
                    if let pos8 = op.pos8, let del8 = op.del8 {
                        let before = String(String.UnicodeScalarView(scalars[..<pos])).utf8.count
                        let deleted = String(String.UnicodeScalarView(scalars[pos..<pos + del])).utf8.count
                        if before != pos8 || deleted != del8 { report.spliceOffsetMismatches += 1 }
                    }
                    scalars.replaceSubrange(pos..<pos + del, with: Array(ins.unicodeScalars))
                    let newBody = String(String.UnicodeScalarView(scalars))
                    try store.editArticle(id, [(ArticleFields.body, newBody)])
                    spliceBytes = (ins.utf8.count, op.del8 ?? 0, newBody.utf8.count)
                    for h in highlights where h.article == id { spliced.insert(h.annotation) }
                    report.spliceInserts[id, default: []].append(ins)
                case "tag.add":
                    try store.addTags([op.tag ?? ""], to: try article(op.a))
                case "tag.remove":
                    try store.removeTags([op.tag ?? ""], from: try article(op.a))
                case "coll.add":
                    try store.addToCollection(try collection(op.c), articles: [try article(op.a)])
                case "coll.remove":
                    try store.removeFromCollection(try collection(op.c), articles: [try article(op.a)])
                case "ann.add":
                    let id = try article(op.a)
                    let ours: String
                    if op.kind == "note" {
                        ours = try store.addNote(article: id, text: op.note ?? "")
                    } else {
                        guard let start = op.start, let end = op.end else { throw Skip("no_range") }
                        ours = try store.highlight(article: id, .range(start: start, end: end), note: op.note)
                        if let quote = op.quote { highlights.append((id, ours, quote)) }
                    }
                    annotationIDs[op.id!] = ours
                case "ann.note":
                    try store.setNote(annotation: try annotation(op.id), text: op.note ?? "")
                case "ann.remove":
                    try store.removeAnnotation(try annotation(op.id))
                case "article.delete":
                    try store.trash(try article(op.a))
                default:
                    throw Skip("unknown_op")
                }
                report.applied[kind, default: 0] += 1
                let now = try store.versionVector()[store.replica]
                if now == counter { report.noOps[kind, default: 0] += 1 }
                if let spliceBytes {
                    report.bodySplices += 1
                    report.spliceInsertedBytes += spliceBytes.ins
                    report.spliceDeletedBytes += spliceBytes.del
                    report.spliceBodyBytes += spliceBytes.body
                    let emitted = try store.ops(since: VersionVector([store.replica: counter]), replica: store.replica)
                    for op in emitted {
                        report.spliceOps.append(op.id)
                        report.spliceOpBytes += OpCodec.encodeBody(op).count
                        report.spliceFrameBytes += try Changeset.encode([op]).count
                    }
                }
                report.emittedOps += Int(now - counter)
                counter = now
            } catch let skip as Skip {
                report.skipped["\(kind)/\(skip.reason)", default: 0] += 1
            } catch let error as StoreError where Self.refusals.contains(error.code) {
                report.skipped["\(kind)/\(error.code.rawValue)", default: 0] += 1
            }
        }

        // Cross-check the anchors: the quote we stored is the one the generator saw.
        let byArticle = Dictionary(grouping: highlights, by: \.article)
        for (id, list) in byArticle {
            let article = try store.article(id)
            let body = Array(article.body.unicodeScalars)
            let annotations = Dictionary(uniqueKeysWithValues: article.annotations.map { ($0.id, $0) })
            for h in list {
                guard let stored = annotations[h.annotation] else { continue }
                if spliced.contains(h.annotation) {
                    // Its quote is what the body now says where it sits (or it is detached).
                    guard !stored.detached, let start = stored.start, let end = stored.end, start <= end, end <= body.count,
                        String(String.UnicodeScalarView(body[start..<end])) == stored.exact
                    else {
                        if !stored.detached { report.anchorMismatches += 1 }
                        continue
                    }
                } else if stored.exact != h.quote {
                    report.anchorMismatches += 1
                }
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Store refusals that are part of the design (an op on an article in the trash, removing a
    /// tag that is absent …), as opposed to failures of the store.
    static let refusals: Set<StoreError.Code> = [.notFound, .trashed, .invalidInput]

    struct Skip: Error { let reason: String; init(_ reason: String) { self.reason = reason } }

    static func field(_ name: String) -> Field? {
        ArticleFields.editable.first { $0.name == (name == "source_url" ? "url" : name) }
    }

    func article(_ workloadID: String?) throws -> String {
        guard let workloadID, let id = articleIDs[workloadID] else { throw Skip("unknown_article") }
        return id
    }

    func collection(_ workloadID: String?) throws -> String {
        guard let workloadID, let id = collectionIDs[workloadID] else { throw Skip("unknown_collection") }
        return id
    }

    func annotation(_ workloadID: String?) throws -> String {
        guard let workloadID, let id = annotationIDs[workloadID] else { throw Skip("unknown_annotation") }
        return id
    }
}

// MARK: - Changeset files

/// One changeset file moved from one store to another.
public struct ChangesetTransfer: Sendable, CustomStringConvertible {
    public var from: String
    public var to: String
    public var file: String
    public var bytes: Int
    public var frames: Int
    public var ops: Int
    public var applied: Int
    /// Wall time of the export (ops read and encoded) and of the apply (decoded and merged).
    public var exportSeconds = 0.0
    public var applySeconds = 0.0

    public var description: String {
        "\(from)→\(to): \(ops) ops in \(frames) frame(s), \(bytes) B, \(applied) applied; export "
            + String(format: "%.2f s, apply %.2f s", exportSeconds, applySeconds)
    }
}

public enum ChangesetFiles {
    /// `from` exports everything `to` lacks (since `to`'s version vector) to a file in
    /// `directory`, and `to` applies that file. Nothing is written when there is nothing to send.
    @discardableResult
    public static func transfer(
        from: Store, _ fromName: String, to: Store, _ toName: String,
        via directory: URL, label: String
    ) throws -> ChangesetTransfer {
        let started = Date()
        let export = try from.exportChangesets(since: try to.versionVector())
        let exported = Date()
        let url = directory.appendingPathComponent("\(label)-\(fromName)-to-\(toName).changes")
        var transfer = ChangesetTransfer(
            from: fromName, to: toName, file: url.path, bytes: export.bytes.count,
            frames: export.frames, ops: export.ops, applied: 0)
        transfer.exportSeconds = exported.timeIntervalSince(started)
        guard export.ops > 0 else { return transfer }
        try Data(export.bytes).write(to: url)
        let report = try to.applyChangesets(Array(try Data(contentsOf: url)))
        transfer.applied = report.applied
        transfer.applySeconds = Date().timeIntervalSince(exported)
        return transfer
    }
}

/// Sizes of op sets as a changeset frame carries them (zlib level 6 over the op bodies), to find
/// what a subset of ops costs inside a real file rather than on its own.
public enum ChangesetSize {
    /// zlib-compressed size of the concatenated ``OpCodec`` bodies of `ops` (a frame's payload
    /// without its HLC deltas and header).
    public static func compressedBodies(_ ops: [Op]) -> Int {
        var payload: [UInt8] = []
        for op in ops { payload += OpCodec.encodeBody(op) }
        return Zlib.deflate(payload).count
    }

    /// How many compressed bytes `subset` adds to `ops`: size with them minus size without.
    public static func marginalBytes(of subset: Set<OpID>, in ops: [Op]) -> (with: Int, without: Int) {
        (compressedBodies(ops), compressedBodies(ops.filter { !subset.contains($0.id) }))
    }
}
