import Foundation
import GRDB
import SyncModel
import SyncWire

/// Loads and saves the merge state (``LWWRegister`` versions and ``AddWinsSet`` entries) of one
/// field or set. The decisions are made by those pure types; this file only moves rows.
enum MergeState {
    static func register(_ entity: EntityRef, _ field: String, in db: Database) throws -> LWWRegister {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT replica, counter, hlc, vtype, value, dominated FROM registers
                    WHERE kind = ? AND entity = ? AND field = ?
                    """), arguments: [entity.kind.rawValue, entity.id, field])
        return LWWRegister(versions: rows.map(version))
    }

    /// The winning version of one field (its live versions only: dominated versions carry no
    /// value and cannot win).
    static func winner(_ entity: EntityRef, _ field: String, in db: Database) throws -> LWWRegister.Version? {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT replica, counter, hlc, vtype, value, dominated FROM registers
                    WHERE kind = ? AND entity = ? AND field = ? AND dominated = 0 AND hlc IS NOT NULL
                    """), arguments: [entity.kind.rawValue, entity.id, field])
        return LWWRegister(versions: rows.map(version)).winner
    }

    static func version(_ row: Row) -> LWWRegister.Version {
        let replica = ReplicaID(bytes: Array(row["replica"] as Data))!
        let hlc: Int64? = row["hlc"]
        return LWWRegister.Version(
            id: OpID(replica: replica, counter: UInt64(row["counter"] as Int64)),
            hlc: hlc.map { HLC(raw: UInt64(bitPattern: $0)) },
            value: value(vtype: row["vtype"], row["value"]),
            dominated: row["dominated"])
    }

    static func value(vtype: Int?, _ db: DatabaseValue) -> Value? {
        switch vtype {
        case nil: return nil
        case 0: return .null
        case 1: return .bool(Int64.fromDatabaseValue(db) == 1)
        case 2: return .int(Int64.fromDatabaseValue(db) ?? 0)
        default: return .string(String.fromDatabaseValue(db) ?? "")
        }
    }

    static func encode(_ value: Value?) -> (Int?, (any DatabaseValueConvertible)?) {
        switch value {
        case nil: return (nil, nil)
        case .null: return (0, nil)
        case .bool(let b): return (1, b ? 1 : 0)
        case .int(let i): return (2, i)
        case .string(let s): return (3, s)
        }
    }

    static func save(_ versions: [LWWRegister.Version], _ entity: EntityRef, _ field: String, in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO registers(kind, entity, field, replica, counter, parent, hlc, vtype, value, dominated)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for v in versions {
            let (vtype, value) = encode(v.value)
            try statement.execute(arguments: [
                entity.kind.rawValue, entity.id, field, Data(v.id.replica.bytes), Int64(v.id.counter), entity.parent,
                v.hlc.map { Int64(bitPattern: $0.raw) }, vtype, value, v.dominated,
            ])
        }
    }

    /// The live versions of every field of an entity, grouped by field.
    static func fields(of entity: EntityRef, in db: Database) throws -> [String: LWWRegister] {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT field, replica, counter, hlc, vtype, value, dominated FROM registers
                    WHERE kind = ? AND entity = ? AND dominated = 0 AND hlc IS NOT NULL
                    """), arguments: [entity.kind.rawValue, entity.id])
        var grouped: [String: [LWWRegister.Version]] = [:]
        for row in rows { grouped[row["field"], default: []].append(version(row)) }
        return grouped.mapValues { LWWRegister(versions: $0) }
    }

    static func set(_ entity: EntityRef, _ name: String, in db: Database) throws -> AddWinsSet {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT replica, counter, element, added, removed FROM set_entries
                    WHERE kind = ? AND entity = ? AND name = ?
                    """), arguments: [entity.kind.rawValue, entity.id, name])
        var entries: [OpID: AddWinsSet.Entry] = [:]
        for row in rows {
            let id = OpID(replica: ReplicaID(bytes: Array(row["replica"] as Data))!, counter: UInt64(row["counter"] as Int64))
            entries[id] = AddWinsSet.Entry(element: row["element"], added: row["added"], removed: row["removed"])
        }
        return AddWinsSet(entries: entries)
    }

    static func save(_ entries: [(OpID, AddWinsSet.Entry)], _ entity: EntityRef, _ name: String, in db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO set_entries(kind, entity, name, replica, counter, element, added, removed)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (id, entry) in entries {
            try statement.execute(arguments: [
                entity.kind.rawValue, entity.id, name, Data(id.replica.bytes),
                Int64(id.counter), entry.element, entry.added, entry.removed,
            ])
        }
    }
}
