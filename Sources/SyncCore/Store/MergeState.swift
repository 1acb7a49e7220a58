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

    /// Every register of an entity (all versions, dominated and placeholders too), by field: one
    /// query for what a batch may touch of it.
    static func registers(of entity: EntityRef, in db: Database) throws -> [String: LWWRegister] {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT field, replica, counter, hlc, vtype, value, dominated FROM registers
                    WHERE kind = ? AND entity = ?
                    """), arguments: [entity.kind.rawValue, entity.id])
        var grouped: [String: [LWWRegister.Version]] = [:]
        for row in rows { grouped[row["field"], default: []].append(version(row)) }
        return grouped.mapValues { LWWRegister(versions: $0) }
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

    /// One register version to write, with the register it belongs to.
    typealias VersionRow = (version: LWWRegister.Version, entity: EntityRef, field: String)

    /// Writes versions with multi-row statements (``rowsPerStatement`` rows each).
    static func save(_ versions: [VersionRow], in db: Database) throws {
        try insert(
            versions, columns: "registers(kind, entity, field, replica, counter, parent, hlc, vtype, value, dominated)", width: 10, in: db
        ) { row, arguments in
            let (v, entity, field) = row
            let (vtype, value) = encode(v.value)
            arguments += [
                entity.kind.rawValue, entity.id, field, Data(v.id.replica.bytes), Int64(v.id.counter), entity.parent,
                v.hlc.map { Int64(bitPattern: $0.raw) }, vtype, value, v.dominated,
            ]
        }
    }

    /// Rows per multi-row `INSERT` (at most 10 parameters a row: far under SQLite's 32,766).
    static let rowsPerStatement = 100

    /// `INSERT OR REPLACE INTO columns VALUES (…), (…)` over `rows`, in chunks.
    static func insert<R>(
        _ rows: [R], columns: String, width: Int, in db: Database,
        _ bind: (R, inout [(any DatabaseValueConvertible)?]) -> Void
    ) throws {
        let row = "(" + repeatElement("?", count: width).joined(separator: ", ") + ")"
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + rowsPerStatement, rows.count)]
            var arguments: [(any DatabaseValueConvertible)?] = []
            arguments.reserveCapacity(chunk.count * width)
            for r in chunk { bind(r, &arguments) }
            let values = repeatElement(row, count: chunk.count).joined(separator: ", ")
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO \(columns) VALUES \(values)").execute(arguments: StatementArguments(arguments))
            start += chunk.count
        }
    }

    /// Every set of an entity, by name.
    static func sets(of entity: EntityRef, in db: Database) throws -> [String: AddWinsSet] {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT name, replica, counter, element, added, removed FROM set_entries
                    WHERE kind = ? AND entity = ?
                    """), arguments: [entity.kind.rawValue, entity.id])
        var grouped: [String: [OpID: AddWinsSet.Entry]] = [:]
        for row in rows {
            let id = OpID(replica: ReplicaID(bytes: Array(row["replica"] as Data))!, counter: UInt64(row["counter"] as Int64))
            grouped[row["name"], default: [:]][id] = AddWinsSet.Entry(element: row["element"], added: row["added"], removed: row["removed"])
        }
        return grouped.mapValues { AddWinsSet(entries: $0) }
    }

    /// One set entry to write, with the set it belongs to.
    typealias EntryRow = (id: OpID, entry: AddWinsSet.Entry, entity: EntityRef, name: String)

    static func save(_ entries: [EntryRow], in db: Database) throws {
        try insert(entries, columns: "set_entries(kind, entity, name, replica, counter, element, added, removed)", width: 8, in: db) {
            row, arguments in
            let (id, entry, entity, name) = row
            arguments += [
                entity.kind.rawValue, entity.id, name, Data(id.replica.bytes), Int64(id.counter), entry.element, entry.added, entry.removed,
            ]
        }
    }
}
