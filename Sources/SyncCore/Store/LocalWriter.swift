import Foundation
import GRDB
public import SyncModel
import SyncWire

/// The context of one local command: it stamps new ops with this replica's next counter and the
/// clock, records and applies them, and persists the clock — all in the caller's transaction, so
/// a failure anywhere leaves neither the ops nor their effects.
struct LocalWriter {
    let db: Database
    let replica: ReplicaID
    let now: UInt64
    var materializer: Materializer
    var counter: UInt64
    var hlc: HLC
    var emitted: [Op] = []

    init(db: Database, replica: ReplicaID, now: UInt64) throws {
        self.db = db
        self.replica = replica
        self.now = now
        self.materializer = Materializer(db)
        self.counter = UInt64(
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT contiguous FROM replicas WHERE replica = ?"),
                arguments: [Data(replica.bytes)]) ?? 0)
        self.hlc = try Clock.load(db)
    }

    /// Records a new op of this replica and applies it at once, so later reads in the same
    /// command see its effect.
    @discardableResult
    mutating func emit(_ body: OpBody, context: VersionVector? = nil) throws -> Op {
        counter += 1
        hlc = HLC.tick(last: hlc, nowMillis: now)
        let op = Op(id: OpID(replica: replica, counter: counter), hlc: hlc, body: body, context: context)
        guard try materializer.record(op) else {
            throw StoreError(.unreadable, "op \(op.id) already in the log: the store's counter is inconsistent")
        }
        emitted.append(op)
        return op
    }

    /// Reads see the ops this command emitted already (they are merged but not yet written).
    mutating func register(_ entity: EntityRef, _ field: String) throws -> LWWRegister {
        try materializer.register(entity, field)
    }

    mutating func set(_ entity: EntityRef, _ name: String) throws -> AddWinsSet {
        try materializer.set(entity, name)
    }

    /// The write of `field` that replaces its current winner (what the author saw).
    mutating func write(_ entity: EntityRef, _ field: String, _ value: Value) throws -> FieldWrite {
        FieldWrite(field, value, prev: try register(entity, field).prev(resolving: false))
    }

    /// Changes the text field `entity.field` to `newValue` by the character edits a diff finds
    /// (``TextSequence/replace(with:by:)``): a changed sentence costs that sentence. The diff is
    /// from the text as it merged; a field no character edit has reached yet starts from its
    /// value's genesis run (``TextGenesis``), which enters the stored state through the edits
    /// that name it, as on every other laptop. A field showing a whole write newer than its text
    /// (an older laptop's) is first made that value, by sending its genesis run and deleting the
    /// rest (Protocol.md, "What the field shows"). Returns whether anything changed.
    @discardableResult
    mutating func editText(_ entity: EntityRef, _ field: Field, to newValue: String) throws -> Bool {
        let held = try materializer.texts.state(entity, field.name, in: db)
        let winner = try register(entity, field.name).winner
        let merged = Materializer.showsMergedText(held, winner: winner)
        var text = held.text
        var edits: [TextEdit] = []
        if case .string(let value)? = winner?.value, let genesis = TextGenesis.insert(of: entity, field: field.name, text: value) {
            if newValue == value && !merged { return false }
            if text.totalCount == 0 {
                text.apply(.insert(genesis))
            } else if !merged && text.text != value {
                if !text.holdsCharacters(of: genesis.id.replica) {
                    text.apply(.insert(genesis))
                    edits.append(.insert(genesis))
                }
                let others = text.spans.filter { !$0.deleted && $0.id.replica != genesis.id.replica }.map {
                    CharRange(replica: $0.id.replica, seq: $0.id.seq, count: UInt32($0.text.count))
                }
                if !others.isEmpty {
                    let delete = TextDelete(ranges: others)
                    text.apply(.delete(delete))
                    edits.append(.delete(delete))
                }
            }
        }
        edits += text.replace(with: Array(newValue.unicodeScalars), by: replica)
        for edit in edits { try emit(.text(entity, field: field.name, edit)) }
        return !edits.isEmpty
    }

    mutating func finish() throws {
        try materializer.finish()
        try Clock.save(hlc, db)
    }
}

/// The persisted hybrid logical clock.
enum Clock {
    static func load(_ db: Database) throws -> HLC {
        HLC(raw: UInt64(bitPattern: try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'hlc'")) ?? 0))
    }

    static func save(_ hlc: HLC, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = 'hlc'").execute(arguments: [Int64(bitPattern: hlc.raw)])
    }
}

extension Store {
    /// Runs a local command: one transaction, ops stamped and applied, clock persisted.
    func local<T: Sendable>(_ body: @Sendable (inout LocalWriter) throws -> T) throws -> T {
        let now = self.now()
        let replica = self.replica
        return try write { db in
            var writer = try LocalWriter(db: db, replica: replica, now: now)
            let result = try body(&writer)
            try writer.finish()
            return result
        }
    }

    /// The clock's current value (for status and tests).
    public func clock() throws -> HLC { try read { db in try Clock.load(db) } }

    /// Advances the clock as if an event happened now; returns the new timestamp. Used by tests
    /// and by the CLI to show that the clock never goes backwards.
    public func tickClock() throws -> HLC {
        let now = self.now()
        return try write { db in
            let next = HLC.tick(last: try Clock.load(db), nowMillis: now)
            try Clock.save(next, db)
            return next
        }
    }
}
