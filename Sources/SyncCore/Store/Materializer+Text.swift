import GRDB
import SyncModel

/// Text fields in the materializer: character edits, the genesis run they start from, what a
/// text field shows, and where highlights sit in the body.
extension Materializer {
    /// Applies one character edit to the text of `entity.field`. An edit that waits for
    /// characters may be waiting for the genesis run of a value written to the field: that run
    /// is inserted then (and the edit with it).
    mutating func applyText(_ edit: TextEdit, hlc: HLC, to entity: EntityRef, _ field: String) throws {
        let waiting = try texts.update(entity, field, in: db) { held in
            held.hlc = max(held.hlc ?? hlc, hlc)
            held.text.apply(edit)
            return held.text.pendingCount > 0
        }
        if waiting {
            let key = TextStates.Key(entity: entity, field: field)
            waitingTexts.insert(key)
            try startText(key)
        }
    }

    /// Inserts the genesis run (``TextGenesis``) of every value written to `key` that a waiting
    /// edit needs, until none is needed: an edit woken by one run may then wait for another. The
    /// values are looked for in the field's register, then in the op log (a register keeps no
    /// value of a write dominated before it arrived), once per batch. A value no edit names is
    /// never inserted: a text's state is a function of its text ops and the values they name.
    mutating func startText(_ key: TextStates.Key) throws {
        var inserted: Set<ReplicaID> = []
        while true {
            let awaited = try texts.state(key.entity, key.field, in: db).text.awaitedReplicas.subtracting(inserted)
            guard !awaited.isEmpty else { return }
            let values = try genesisRuns(key)
            let runs = awaited.sorted().compactMap { values[$0] }
            guard !runs.isEmpty else { return }
            try texts.update(key.entity, key.field, in: db) { held in
                for run in runs { held.text.apply(.insert(run)) }
            }
            inserted.formUnion(runs.map(\.id.replica))
        }
    }

    /// The genesis run of every string value written to `key`, by its replica: from the register
    /// and from the article's ops in the log. Kept for the batch (``finish()`` asks again once the
    /// batch's own ops are in the log).
    mutating func genesisRuns(_ key: TextStates.Key) throws -> [ReplicaID: TextInsert] {
        if let known = genesis[key] { return known }
        var values: [ReplicaID: TextInsert] = [:]
        func add(_ value: Value?) {
            guard case .string(let text)? = value, let run = TextGenesis.insert(of: key.entity, field: key.field, text: text) else { return }
            values[run.id.replica] = run
        }
        for version in try cache.register(key.entity, key.field, in: db).versions.values { add(version.value) }
        if let article = key.entity.articleID {
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT replica, counter, hlc, body FROM ops WHERE article = ?"), arguments: [article])
            while let row = try rows.next() {
                guard case .assign(let e, let writes) = try OpLog.decode(row).body, e == key.entity else { continue }
                for write in writes where write.field == key.field { add(write.value) }
            }
        }
        genesis[key] = values
        return values
    }

    /// Starts the texts whose edits still wait once the batch's ops are in the log: those the
    /// batch wrote a value of, or left waiting.
    mutating func startTexts() throws {
        genesis = [:]
        for key in assignedTexts.union(waitingTexts) where try texts.mayWait(key, in: db) {
            try startText(key)
        }
        assignedTexts = []
        waitingTexts = []
    }

    /// Whether a text field shows its merged text rather than its register's winning value: once
    /// it holds characters, unless the field was written whole after its newest character edit
    /// (a laptop of an older version replacing the body, or a resolved conflict).
    static func showsMergedText(_ held: TextStates.Held, winner: LWWRegister.Version?) -> Bool {
        guard held.text.totalCount > 0, let hlc = held.hlc else { return false }
        guard let written = winner?.hlc else { return true }
        return hlc >= written
    }

    /// What the text field `entity.field` shows (``showsMergedText(_:winner:)``).
    mutating func shownText(_ entity: EntityRef, _ field: Field) throws -> Value? {
        let winner = try cache.register(entity, field.name, in: db).winner
        let held = try texts.state(entity, field.name, in: db)
        return Self.showsMergedText(held, winner: winner) ? .string(held.text.text) : winner?.value
    }

    /// The text highlights of `article` are placed in: the merged body when it is what the article
    /// shows, else the body's winning value as its genesis run (whose characters a highlight made
    /// before any character edit names). Nil when the article has no body.
    mutating func bodyForPlacing(_ article: String) throws -> (text: TextSequence, string: String)? {
        if let known = placing[article] { return known }
        let entity = EntityRef.article(article)
        let winner = try cache.register(entity, ArticleFields.body.name, in: db).winner
        let held = try texts.state(entity, ArticleFields.body.name, in: db)
        var body: (text: TextSequence, string: String)?
        if Self.showsMergedText(held, winner: winner) {
            body = (held.text, held.text.text)
        } else if case .string(let value)? = winner?.value {
            body = (TextGenesis.sequence(of: entity, field: ArticleFields.body.name, text: value), value)
        }
        placing[article] = .some(body)
        return body
    }

    /// Re-derives a highlight's position and quote from its anchor (``TextAnchor``) in the body as
    /// it is now. Returns whether it is detached (every highlighted character deleted): it then
    /// keeps the quote it was made with and sits where the characters were. A highlight whose
    /// anchor this body does not hold keeps its written offsets.
    mutating func place(_ f: inout FieldValues, in article: String) throws -> Bool {
        guard f.string(AnnotationFields.kind) == Annotation.Kind.highlight.rawValue,
            let anchor = try f.string(AnnotationFields.anchor).flatMap(TextAnchor.init(encoded:)) ?? writtenAnchor(f, in: article),
            let body = try bodyForPlacing(article), let place = body.text.place(of: anchor)
        else { return false }
        switch place {
        case .covering(let range):
            Self.setSelectors(&f, range, in: body.string)
            return false
        case .detached(let at):
            f[AnnotationFields.start] = .int(Int64(at))
            f[AnnotationFields.end] = .int(Int64(at))
            return true
        }
    }

    /// Writes a highlight's TextPositionSelector (`start`, `end`) and TextQuoteSelector (`exact`,
    /// `prefix`, `suffix`) for `range` of `body`.
    static func setSelectors(_ f: inout FieldValues, _ range: Range<Int>, in body: String) {
        f[AnnotationFields.start] = .int(Int64(range.lowerBound))
        f[AnnotationFields.end] = .int(Int64(range.upperBound))
        guard let selector = Anchor.selector(start: range.lowerBound, end: range.upperBound, in: body) else { return }
        f[AnnotationFields.exact] = .string(selector.exact)
        f[AnnotationFields.prefix] = .string(selector.prefix)
        f[AnnotationFields.suffix] = .string(selector.suffix)
    }

    /// The `anchor` value a new highlight of `range` writes: none when its characters are the
    /// implied ones (``impliedAnchor(start:end:exact:in:)``), which cost nothing on the wire.
    mutating func anchorToWrite(_ anchor: TextAnchor, _ range: Range<Int>, exact: String, in article: String) throws -> Value? {
        let implied = try impliedAnchor(start: Int64(range.lowerBound), end: Int64(range.upperBound), exact: exact, in: article)
        return implied == anchor ? nil : .string(anchor.encoded)
    }

    /// The anchor of a highlight written without one (by the previous version, or by this one
    /// on a body no character edit has reached: see ``impliedAnchor(start:end:exact:in:)``).
    mutating func writtenAnchor(_ f: FieldValues, in article: String) throws -> TextAnchor? {
        guard let start = f.int(AnnotationFields.start), let end = f.int(AnnotationFields.end), let exact = f.string(AnnotationFields.exact)
        else { return nil }
        return try impliedAnchor(start: start, end: end, exact: exact, in: article)
    }

    /// The characters `start ..< end` of the body's winning written value, when `exact` is what
    /// that value says there: the anchor a highlight has without writing one. So a wave-1
    /// highlight follows its words once the body is edited by characters, and a highlight of a
    /// body nobody has edited by characters yet costs no anchor on the wire.
    mutating func impliedAnchor(start: Int64, end: Int64, exact: String, in article: String) throws -> TextAnchor? {
        guard start >= 0, end > start, end <= Int64(UInt32.max),
            case .string(let value)? = try cache.register(.article(article), ArticleFields.body.name, in: db).winner?.value
        else { return nil }
        let scalars = value.unicodeScalars
        guard end <= Int64(scalars.count),
            scalars.dropFirst(Int(start)).prefix(Int(end - start)).elementsEqual(exact.unicodeScalars)
        else { return nil }
        let genesis = TextGenesis.replica(of: .article(article), field: ArticleFields.body.name, text: value)
        return TextAnchor(first: CharID(replica: genesis, seq: UInt32(start)), last: CharID(replica: genesis, seq: UInt32(end - 1)))
    }

    /// The highlights of every article whose body the batch changed: their positions follow it.
    mutating func touchHighlights() throws {
        let select = try db.cachedStatement(sql: "SELECT id FROM annotations WHERE article = ? AND kind = 'highlight'")
        for (article, fields) in articleFields where fields.contains(ArticleFields.body.name) {
            for id in try String.fetchAll(select, arguments: [article]) { touched.insert(.annotation(id, article: article)) }
        }
    }
}
