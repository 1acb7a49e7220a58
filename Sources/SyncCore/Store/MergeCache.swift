import GRDB
import SyncModel

/// The merge state one batch touches, held in memory for the length of the batch: the first time
/// the batch meets an entity, all its registers (or all its sets) are read from SQLite in one
/// query; the pure merge rules run on the held values, however many ops write them; ``flush(_:)``
/// writes back only the versions and entries that changed, once each, in multi-row statements;
/// and the materializer then reads each touched entity's winners from here instead of SQLite.
/// The results are those of reading and saving per op, because the rules see the same values in
/// the same order; only the round trips are gone.
struct MergeCache {
    struct Key: Hashable {
        let entity: EntityRef
        let name: String
    }

    /// Per loaded entity, every register it has (a field missing here has no versions).
    private var registers: [EntityRef: [String: LWWRegister]] = [:]
    /// Per loaded entity, every set it has.
    private var sets: [EntityRef: [String: AddWinsSet]] = [:]
    /// Per register or set, the op ids whose version or entry changed since the last flush, and
    /// the registers and sets in the order they first changed (the order they are written in:
    /// any order gives the same tables, and this one costs no sort).
    private var changedVersions: [Key: Set<OpID>] = [:]
    private var changedEntries: [Key: Set<OpID>] = [:]
    private var versionOrder: [Key] = []
    private var entryOrder: [Key] = []

    /// Every register of `entity` as the batch left it so far, by field.
    mutating func registers(of entity: EntityRef, in db: Database) throws -> [String: LWWRegister] {
        try Self.held(entity, in: &registers) { try MergeState.registers(of: entity, in: db) }
    }

    /// The register of `entity.field` as the batch left it so far.
    mutating func register(_ entity: EntityRef, _ field: String, in db: Database) throws -> LWWRegister {
        try registers(of: entity, in: db)[field] ?? LWWRegister()
    }

    /// Every set of `entity` as the batch left it so far, by name.
    mutating func sets(of entity: EntityRef, in db: Database) throws -> [String: AddWinsSet] {
        try Self.held(entity, in: &sets) { try MergeState.sets(of: entity, in: db) }
    }

    /// What `cache` holds for `entity`, loaded (once) when it holds nothing yet.
    private static func held<Value>(_ entity: EntityRef, in cache: inout [EntityRef: Value], load: () throws -> Value) rethrows -> Value {
        if let held = cache[entity] { return held }
        let loaded = try load()
        cache[entity] = loaded
        return loaded
    }

    /// The set `entity.name` as the batch left it so far.
    mutating func set(_ entity: EntityRef, _ name: String, in db: Database) throws -> AddWinsSet {
        try sets(of: entity, in: db)[name] ?? AddWinsSet()
    }

    /// Applies one write to the register of `entity.field`.
    mutating func assign(_ entity: EntityRef, _ field: String, id: OpID, hlc: HLC, value: Value, prev: [OpID], in db: Database) throws {
        _ = try registers(of: entity, in: db)
        let changed = registers[entity]![field, default: LWWRegister()].apply(id: id, hlc: hlc, value: value, prev: prev)
        guard !changed.isEmpty else { return }
        let key = Key(entity: entity, name: field)
        if changedVersions[key] == nil { versionOrder.append(key) }
        changedVersions[key, default: []].formUnion(changed.map(\.id))
    }

    /// Applies an add or a remove to the set `entity.name`.
    mutating func updateSet(
        _ entity: EntityRef, _ name: String, in db: Database, _ change: (inout AddWinsSet) -> [(OpID, AddWinsSet.Entry)]
    ) throws {
        _ = try sets(of: entity, in: db)
        let changed = change(&sets[entity]![name, default: AddWinsSet()])
        guard !changed.isEmpty else { return }
        let key = Key(entity: entity, name: name)
        if changedEntries[key] == nil { entryOrder.append(key) }
        changedEntries[key, default: []].formUnion(changed.map(\.0))
    }

    /// Drops what is held of `entity` (after a flush: the tables say the same).
    mutating func forget(_ entity: EntityRef) {
        registers[entity] = nil
        sets[entity] = nil
    }

    /// How many entities' registers and sets are held: a caller streaming a whole log (a rebuild)
    /// flushes and starts afresh past a bound so memory stays flat.
    var count: Int { registers.count + sets.count }

    /// Writes every changed version and entry. What is held stays valid (it is what
    /// the tables now say), so the batch's materialization reads it from here.
    mutating func flush(_ db: Database) throws {
        var versions: [MergeState.VersionRow] = []
        for key in versionOrder {
            guard let ids = changedVersions[key], let register = registers[key.entity]?[key.name] else { continue }
            versions += ids.sorted().compactMap { register.versions[$0] }.map { ($0, key.entity, key.name) }
        }
        try MergeState.save(versions, in: db)
        var entries: [MergeState.EntryRow] = []
        for key in entryOrder {
            guard let ids = changedEntries[key], let set = sets[key.entity]?[key.name] else { continue }
            entries += ids.sorted().compactMap { id in set.entries[id].map { (id, $0, key.entity, key.name) } }
        }
        try MergeState.save(entries, in: db)
        changedVersions = [:]
        changedEntries = [:]
        versionOrder = []
        entryOrder = []
    }
}
