import GRDB
import SyncModel

/// The merge state one batch touches, held in memory for the length of the batch: each field
/// register and each set is read from SQLite once, however many ops of the batch write it, the
/// pure merge rules run on the cached value, and ``flush(_:)`` writes back only the versions and
/// entries that changed, once each. The results are those of reading and saving per op, because
/// the rules see the same values in the same order; only the round trips are gone.
struct MergeCache {
    struct Key: Hashable {
        let entity: EntityRef
        let name: String
    }

    private var registers: [Key: LWWRegister] = [:]
    private var sets: [Key: AddWinsSet] = [:]
    /// Per register or set, the op ids whose version or entry changed since the last flush.
    private var changedVersions: [Key: Set<OpID>] = [:]
    private var changedEntries: [Key: Set<OpID>] = [:]

    /// The register of `entity.field` as the batch left it so far.
    func register(_ entity: EntityRef, _ field: String, in db: Database) throws -> LWWRegister {
        try registers[Key(entity: entity, name: field)] ?? MergeState.register(entity, field, in: db)
    }

    /// The set `entity.name` as the batch left it so far.
    func set(_ entity: EntityRef, _ name: String, in db: Database) throws -> AddWinsSet {
        try sets[Key(entity: entity, name: name)] ?? MergeState.set(entity, name, in: db)
    }

    /// Applies one write to the register of `entity.field`.
    mutating func assign(_ entity: EntityRef, _ field: String, id: OpID, hlc: HLC, value: Value, prev: [OpID], in db: Database) throws {
        let key = Key(entity: entity, name: field)
        var register = try registers[key] ?? MergeState.register(entity, field, in: db)
        let changed = register.apply(id: id, hlc: hlc, value: value, prev: prev)
        registers[key] = register
        if !changed.isEmpty { changedVersions[key, default: []].formUnion(changed.map(\.id)) }
    }

    /// Applies an add or a remove to the set `entity.name`.
    mutating func updateSet(
        _ entity: EntityRef, _ name: String, in db: Database, _ change: (inout AddWinsSet) -> [(OpID, AddWinsSet.Entry)]
    ) throws {
        let key = Key(entity: entity, name: name)
        var set = try sets[key] ?? MergeState.set(entity, name, in: db)
        let changed = change(&set)
        sets[key] = set
        if !changed.isEmpty { changedEntries[key, default: []].formUnion(changed.map(\.0)) }
    }

    /// How many registers and sets are held: a caller streaming a whole log (a rebuild) flushes
    /// past a bound so memory stays flat.
    var count: Int { registers.count + sets.count }

    /// Writes every changed version and entry, in key order, and forgets what was cached (the
    /// tables are the truth again).
    mutating func flush(_ db: Database) throws {
        for (key, ids) in changedVersions.sorted(by: { $0.key < $1.key }) {
            guard let register = registers[key] else { continue }
            try MergeState.save(ids.sorted().compactMap { register.versions[$0] }, key.entity, key.name, in: db)
        }
        for (key, ids) in changedEntries.sorted(by: { $0.key < $1.key }) {
            guard let set = sets[key] else { continue }
            try MergeState.save(ids.sorted().compactMap { id in set.entries[id].map { (id, $0) } }, key.entity, key.name, in: db)
        }
        self = MergeCache()
    }
}

extension MergeCache.Key: Comparable {
    static func < (a: Self, b: Self) -> Bool { (a.entity, a.name) < (b.entity, b.name) }
}
