import Foundation
import GRDB
import SyncModel
import SyncWire

/// The merge state of the text fields one batch touches (``TextSequence``, one per entity and
/// field), held in memory for the length of the batch like ``MergeCache``: each text is read from
/// `text_states` the first time the batch meets it, every text op of the batch is applied to the
/// held value, and ``flush(_:)`` writes each changed text back once, in its canonical encoding
/// (``TextStateCodec``), in the batch's transaction. The row is a function of the set of text ops
/// applied: a rebuild, which applies them in another order, writes the same bytes.
struct TextStates {
    struct Key: Hashable {
        let entity: EntityRef
        let field: String
    }

    struct Held {
        var text = TextSequence()
        /// The newest stamp of the text ops applied (or waiting): which decides, against the
        /// field's register, what the field shows (``Materializer/shownText(_:_:)``).
        var hlc: HLC?
        /// Whether a row exists or will (a text op was applied, or waits).
        var exists: Bool { hlc != nil }
    }

    private var held: [Key: Held] = [:]
    private var changed: Set<Key> = []

    var count: Int { held.count }

    /// The text of `entity.field` as the batch left it so far (empty when it has no row).
    mutating func state(_ entity: EntityRef, _ field: String, in db: Database) throws -> Held {
        let key = Key(entity: entity, field: field)
        if let h = held[key] { return h }
        let loaded = try Self.load(key, in: db)
        held[key] = loaded
        return loaded
    }

    /// Whether edits of `key` may be waiting, without loading a text that has no row or none
    /// waiting (a rebuild asks this of every captured body).
    mutating func mayWait(_ key: Key, in db: Database) throws -> Bool {
        if let h = held[key] { return h.text.pendingCount > 0 }
        return try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT pending IS NOT NULL FROM text_states WHERE kind = ? AND entity = ? AND field = ?"),
            arguments: [key.entity.kind.rawValue, key.entity.id, key.field]) ?? false
    }

    /// Changes the held text of `entity.field`; it is written at the next flush.
    mutating func update<T>(_ entity: EntityRef, _ field: String, in db: Database, _ change: (inout Held) throws -> T) throws -> T {
        let key = Key(entity: entity, field: field)
        var h = try state(entity, field, in: db)
        let result = try change(&h)
        held[key] = h
        changed.insert(key)
        return result
    }

    /// Drops what is held of `entity` (after a flush: the table says the same).
    mutating func forget(_ entity: EntityRef) {
        for field in TextFields.all where field.entity == entity.kind { held[Key(entity: entity, field: field.name)] = nil }
    }

    /// Writes every changed text.
    mutating func flush(_ db: Database) throws {
        let save = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO text_states(kind, entity, field, parent, hlc, state, pending) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for key in changed {
            guard let h = held[key], let hlc = h.hlc else { continue }
            try save.execute(arguments: [
                key.entity.kind.rawValue, key.entity.id, key.field, key.entity.parent, Int64(bitPattern: hlc.raw),
                Data(TextStateCodec.encode(h.text)), TextStateCodec.encodePending(h.text.pendingEdits, field: key.field).map { Data($0) },
            ])
        }
        changed = []
    }

    static func load(_ key: Key, in db: Database) throws -> Held {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT hlc, state, pending FROM text_states WHERE kind = ? AND entity = ? AND field = ?"),
                arguments: [key.entity.kind.rawValue, key.entity.id, key.field])
        else { return Held() }
        do {
            var text = try TextStateCodec.decode(Array(row["state"] as Data))
            if let pending = row["pending"] as Data? {
                for edit in try TextStateCodec.decodePending(Array(pending)) { text.apply(edit) }
            }
            return Held(text: text, hlc: HLC(raw: UInt64(bitPattern: row["hlc"] as Int64)))
        } catch {
            throw StoreError(
                .unreadable,
                "the text state of \(key.entity.kind.name) \(key.entity.id) \(key.field) is unreadable (\(error)); `synccli doctor --rebuild` re-derives it from the op log"
            )
        }
    }
}
