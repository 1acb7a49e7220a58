import GRDB
import SyncModel

/// The field tables (``ArticleFields`` …) as SQLite sees them: each field is a column of its
/// entity's materialized table (`articles`, `collections`, `annotations`) of the same name.
extension Field {
    /// The column, quoted (`end` is an SQL keyword).
    var column: String { "\"\(name)\"" }

    /// What the column holds for a field whose winning write is `value` (nil: no write).
    func databaseValue(_ value: Value?) -> (any DatabaseValueConvertible)? {
        switch shown(value) {
        case .string(let s): s
        case .int(let i): i
        case .bool(let b): b
        case .null, nil: nil
        }
    }

    /// The value a column holds, typed.
    func value(in row: Row) -> Value? {
        switch type {
        case .string: (row[name] as String?).map(Value.string)
        case .int: (row[name] as Int64?).map(Value.int)
        case .bool: (row[name] as Bool?).map(Value.bool)
        }
    }
}

extension FieldValues {
    /// The values of `fields` in a row of their materialized table.
    init(row: Row, _ fields: [Field]) {
        var values: [String: Value] = [:]
        for field in fields { values[field.name] = field.value(in: row) }
        self.init(values)
    }
}

/// SQL the materializer runs, built once from the field tables.
enum MaterializedSQL {
    /// `INSERT … ON CONFLICT(id) DO UPDATE` of a whole article row: id, every field, the trash conflict.
    static let upsertArticle: String = {
        let columns = ["id"] + ArticleFields.all.map(\.column) + ["trash_conflict"]
        let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO articles(\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT(id) DO UPDATE SET \(updates)
            """
    }()

    static let replaceCollection = replace(table: "collections", leading: ["id"], CollectionFields.all)
    /// Id, article, every field, whether the highlight is detached.
    static let replaceAnnotation = replace(table: "annotations", leading: ["id", "article"], AnnotationFields.all, trailing: ["detached"])

    static func replace(table: String, leading: [String], _ fields: [Field], trailing: [String] = []) -> String {
        let columns = leading + fields.map(\.column) + trailing
        return "INSERT OR REPLACE INTO \(table)(\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    }
}
