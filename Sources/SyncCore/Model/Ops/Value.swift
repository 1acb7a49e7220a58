/// A field value carried by an op.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var int: Int64? { if case .int(let i) = self { i } else { nil } }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .string(let s): s
        }
    }
}

/// One last-writer-wins field write. `prev` names the writes this one saw and replaces (the
/// field's winner, or every competing value when a conflict is resolved); a write that did not
/// see another is concurrent with it, and the loser becomes a conflict record.
public struct FieldWrite: Hashable, Sendable {
    public let field: String
    public let value: Value
    public let prev: [OpID]

    public init(_ field: String, _ value: Value, prev: [OpID] = []) {
        self.field = field
        self.value = value
        self.prev = prev
    }
}
