import Foundation

/// One line in plain words for an op, for `synccli log` and `changeset inspect`.
public enum OpDescription {
    public static func describe(_ body: OpBody, maxValue: Int = 60) -> String {
        func short(_ v: Value) -> String {
            let s = v.description.replacingOccurrences(of: "\n", with: " ")
            return s.count > maxValue ? String(s.prefix(maxValue)) + "…" : s
        }
        switch body {
        case .assign(let entity, let writes):
            let fields = writes.map { "\($0.field)=\(short($0.value))" }.joined(separator: ", ")
            let verb = writes.allSatisfy({ $0.prev.isEmpty }) && writes.count > 2 ? "create" : "set"
            return "\(verb) \(entity.kind.name) \(entity.id): \(fields)"
        case .setAdd(let entity, let set, let element):
            return "add \(element) to \(set) of \(entity.kind.name) \(entity.id)"
        case .setRemove(let entity, let set, let element, let observed):
            return "remove \(element) from \(set) of \(entity.kind.name) \(entity.id) (\(observed.count) add\(observed.count == 1 ? "" : "s") seen)"
        case .text(let entity, let field, .insert(let insert)):
            let n = insert.text.count
            return "insert \(n) character\(n == 1 ? "" : "s") into \(field) of \(entity.kind.name) \(entity.id)"
        case .text(let entity, let field, .delete(let delete)):
            let n = delete.ranges.reduce(0) { $0 + Int($1.count) }
            return "delete \(n) character\(n == 1 ? "" : "s") from \(field) of \(entity.kind.name) \(entity.id)"
        case .unknown(let kind, let entity, let payload):
            let about = entity.id.isEmpty ? "" : " on \(entity.kind.name) \(entity.id)"
            return "op of unknown kind \(kind)\(about) (\(payload.count) bytes, kept and passed on)"
        }
    }
}
