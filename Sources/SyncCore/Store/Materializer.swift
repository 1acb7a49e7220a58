import Foundation
import GRDB
import SyncModel
import SyncWire

/// Applies ops inside one transaction: records them in the op log (ignoring duplicates), feeds
/// them to the merge rules, and on ``finish()`` rebuilds the materialized rows of every entity
/// they touched. The same path serves local edits, merged changesets and `doctor --rebuild`.
///
/// A batch is merged as a set: the merge state it touches is read once and written back once
/// (``MergeCache``), and each touched entity is materialized once, at ``finish()``.
struct Materializer {
    let db: Database
    var cache = MergeCache()
    /// The text fields the batch touches (``TextStates``).
    var texts = TextStates()
    /// Text fields written whole in this batch: a value that waiting character edits need starts
    /// their text (``TextGenesis``) at ``finish()``.
    var assignedTexts: Set<TextStates.Key> = []
    /// Texts an edit of this batch left waiting (started again at ``finish()``).
    var waitingTexts: Set<TextStates.Key> = []
    /// Per text, the genesis runs of the values written to it (``genesisRuns(_:)``).
    var genesis: [TextStates.Key: [ReplicaID: TextInsert]] = [:]
    /// Per article, the body highlights are placed in (``bodyForPlacing(_:)``), for this finish.
    var placing: [String: (text: TextSequence, string: String)?] = [:]
    /// Entities' registers and sets held before the cache is written back early and dropped (a
    /// rebuild streams the whole log through one materializer).
    static let cacheLimit = 10_000
    /// The same for texts (a text holds its whole history, so fewer).
    static let textCacheLimit = 1_000
    var touched: Set<EntityRef> = []
    /// Per touched article, the fields its ops wrote: only their winners can have changed, so
    /// an article row that exists is updated in those columns alone (the body is neither
    /// re-read nor rewritten when another field changes).
    var articleFields: [String: Set<String>] = [:]
    /// Touched articles whose tag set changed.
    private var articleTags: Set<String> = []
    private var log = OpLogAppend()
    private(set) var applied = 0

    init(_ db: Database) { self.db = db }

    /// Appends `op` to the op log and applies it. Returns false (and changes nothing) when the
    /// log already holds it. The row itself is written at ``finish()`` (``OpLogAppend``).
    mutating func record(_ op: Op) throws -> Bool {
        guard try !log.holds(op.id, in: db) else { return false }
        log.append(op)
        try apply(op)
        return true
    }

    /// The register of `entity.field` with the effect of every op applied so far.
    mutating func register(_ entity: EntityRef, _ field: String) throws -> LWWRegister {
        try cache.register(entity, field, in: db)
    }

    /// The set `entity.name` with the effect of every op applied so far.
    mutating func set(_ entity: EntityRef, _ name: String) throws -> AddWinsSet {
        try cache.set(entity, name, in: db)
    }

    /// Feeds one op to the merge rules (the op must already be in the log).
    mutating func apply(_ op: Op) throws {
        applied += 1
        switch op.body {
        case .assign(let entity, let writes):
            for write in writes {
                try cache.assign(entity, write.field, id: op.id, hlc: op.hlc, value: write.value, prev: write.prev, in: db)
                if TextFields.contains(entity.kind, write.field) {
                    let key = TextStates.Key(entity: entity, field: write.field)
                    assignedTexts.insert(key)
                    genesis[key] = nil
                }
            }
            if entity.kind == .article {
                articleFields[entity.id, default: []].formUnion(writes.map(\.field))
                placing[entity.id] = nil
            }
            touched.insert(entity)
        case .setAdd(let entity, let name, let element):
            try cache.updateSet(entity, name, in: db) { set in [(op.id, set.add(element, id: op.id))] }
            if entity.kind == .article { articleTags.insert(entity.id) }
            touched.insert(entity)
        case .setRemove(let entity, let name, let element, let observed):
            try cache.updateSet(entity, name, in: db) { set in set.remove(element, observed: observed) }
            if entity.kind == .article { articleTags.insert(entity.id) }
            touched.insert(entity)
        case .text(let entity, let field, let edit):
            try applyText(edit, hlc: op.hlc, to: entity, field)
            if entity.kind == .article {
                articleFields[entity.id, default: []].insert(field)
                placing[entity.id] = nil
            }
            touched.insert(entity)
        case .unknown:
            break  // stored and passed on; its envelope files it under its article (rule 3 counts it)
        }
        if let article = op.entity.articleID { touched.insert(.article(article)) }
        if cache.count > Self.cacheLimit {
            try cache.flush(db)
            cache = MergeCache()
            genesis = [:]
        }
        if texts.count > Self.textCacheLimit {
            try texts.flush(db)  // texts still waiting for their start are started at finish
            texts = TextStates()
        }
    }

    /// Rebuilds the rows of every touched entity and advances the version vector.
    mutating func finish() throws {
        try log.flush(db)  // the trash rule below reads the log
        try startTexts()
        try cache.flush(db)
        try texts.flush(db)
        try touchHighlights()
        for entity in touched.sorted() {
            switch entity.kind {
            case .article:
                try updateArticle(entity.id, fields: articleFields[entity.id] ?? [], tags: articleTags.contains(entity.id))
            case .collection: try materializeCollection(entity.id)
            case .annotation: try materializeAnnotation(entity)
            default: break  // an entity kind of a newer version: kept in the merge state only
            }
            cache.forget(entity)  // memory stays flat when a rebuild touches every entity
            texts.forget(entity)
        }
        touched = []
        cache = MergeCache()
        texts = TextStates()
        placing = [:]
        articleFields = [:]
        articleTags = []
        try log.advance(db)
    }

    private mutating func winners(_ entity: EntityRef) throws -> FieldValues {
        FieldValues(try cache.registers(of: entity, in: db).compactMapValues { $0.winner?.value })
    }

    /// Brings an article's row up to date after ops that wrote `fields` (and its tags when
    /// `tags`). An existing row is updated in the changed columns only; a new row, or one whose
    /// title or body lost its last value, goes through the full ``materializeArticle(_:)``.
    private mutating func updateArticle(_ id: String, fields: Set<String>, tags: Bool) throws {
        let existing = try Bool.fetchOne(db.cachedStatement(sql: "SELECT trashed FROM articles WHERE id = ?"), arguments: [id])
        guard let wasTrashed = existing else { return try materializeArticle(id) }
        let changed = ArticleFields.all.filter { fields.contains($0.name) }
        var winners: [Field: Value?] = [:]
        for field in changed {
            winners[field] = try cache.register(.article(id), field.name, in: db).winner?.value
        }
        if winners[ArticleFields.body] != nil { winners[ArticleFields.body] = .some(try shownText(.article(id), ArticleFields.body)) }
        for field in ArticleFields.identifying where winners[field] != nil && winners[field]! == nil {
            return try materializeArticle(id)  // may remove the row
        }
        let trashed = winners[ArticleFields.trashed].map { $0?.bool ?? false } ?? wasTrashed
        var assignments: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        for field in changed {
            assignments.append("\(field.column) = ?")
            arguments.append(field.databaseValue(winners[field]!))
        }
        // Rule 3 depends on every op of the article: re-check it whenever a trashed article is
        // touched (an untrashed article never has a trash conflict).
        if trashed || winners[ArticleFields.trashed] != nil {
            assignments.append("trash_conflict = ?")
            arguments.append(try trashConflict(id, trashed: trashed))
        }
        if !assignments.isEmpty {
            arguments.append(id)
            try db.cachedStatement(sql: "UPDATE articles SET \(assignments.joined(separator: ", ")) WHERE id = ?")
                .execute(arguments: StatementArguments(arguments))
        }
        if tags { try materializeTags(id) }
    }

    private mutating func materializeTags(_ id: String) throws {
        let tags = try cache.set(.article(id), "tags", in: db).elements
        try db.cachedStatement(sql: "DELETE FROM tags WHERE article = ?").execute(arguments: [id])
        let insert = try db.cachedStatement(sql: "INSERT INTO tags(article, tag) VALUES (?, ?)")
        for tag in tags { try insert.execute(arguments: [id, tag]) }
    }

    private mutating func materializeArticle(_ id: String) throws {
        var f = try winners(.article(id))
        f[ArticleFields.body] = try shownText(.article(id), ArticleFields.body)
        guard ArticleFields.exist(f) else {
            try db.cachedStatement(sql: "DELETE FROM articles WHERE id = ?").execute(arguments: [id])
            try db.cachedStatement(sql: "DELETE FROM tags WHERE article = ?").execute(arguments: [id])
            return
        }
        let conflict = try trashConflict(id, trashed: f.bool(ArticleFields.trashed))
        let values: [(any DatabaseValueConvertible)?] = [id] + ArticleFields.all.map { $0.databaseValue(f[$0]) } + [conflict]
        try db.cachedStatement(sql: MaterializedSQL.upsertArticle).execute(arguments: StatementArguments(values))
        try materializeTags(id)
    }

    /// Rule 3: a trashed article that someone worked on without having seen the trash is flagged.
    private mutating func trashConflict(_ id: String, trashed: Bool) throws -> String? {
        guard trashed, let trash = try cache.register(.article(id), ArticleFields.trashed.name, in: db).winner else { return nil }
        guard let trashOp = try OpLog.op(trash.id, in: db) else { return nil }
        let unseen = TrashRule.unseenWork(
            trashContext: trashOp.context ?? VersionVector(), trashID: trashOp.id,
            work: try OpLog.work(onArticle: id, in: db))
        guard !unseen.isEmpty else { return nil }
        let who = Set(unseen.map(\.replica.short)).sorted().joined(separator: ", ")
        return
            "moved to the trash on \(trashOp.id.replica.short) while \(who) worked on it (\(unseen.count) change\(unseen.count == 1 ? "" : "s") kept)"
    }

    private mutating func materializeCollection(_ id: String) throws {
        let f = try winners(.collection(id))
        try db.cachedStatement(sql: "DELETE FROM memberships WHERE collection = ?").execute(arguments: [id])
        guard CollectionFields.exist(f) else {
            try db.cachedStatement(sql: "DELETE FROM collections WHERE id = ?").execute(arguments: [id])
            return
        }
        let values: [(any DatabaseValueConvertible)?] = [id] + CollectionFields.all.map { $0.databaseValue(f[$0]) }
        try db.cachedStatement(sql: MaterializedSQL.replaceCollection).execute(arguments: StatementArguments(values))
        let insert = try db.cachedStatement(sql: "INSERT INTO memberships(collection, article) VALUES (?, ?)")
        for article in try cache.set(.collection(id), "members", in: db).elements {
            try insert.execute(arguments: [id, article])
        }
    }

    private mutating func materializeAnnotation(_ entity: EntityRef) throws {
        var f = try winners(entity)
        guard AnnotationFields.exist(f) else {
            try db.cachedStatement(sql: "DELETE FROM annotations WHERE id = ?").execute(arguments: [entity.id])
            return
        }
        f[AnnotationFields.note] = try shownText(entity, AnnotationFields.note)
        let detached = try place(&f, in: entity.parent)
        let values: [(any DatabaseValueConvertible)?] =
            [entity.id, entity.parent] + AnnotationFields.all.map { $0.databaseValue(f[$0]) } + [detached]
        try db.cachedStatement(sql: MaterializedSQL.replaceAnnotation).execute(arguments: StatementArguments(values))
    }
}
