import Crypto
import Foundation

/// The characters a text field starts with, numbered the same way on every laptop.
///
/// A text field's first value is written whole, like any field (an `add` writes the article's
/// body; a highlight's note comes with it). Its characters are numbered from 0 under a replica id
/// derived from the entity, the field and the value (the *genesis replica*), not from the laptop
/// that wrote it. So two laptops that capture the same story offline number its characters the
/// same, and their character edits merge into one body, not two copies. No op carries the genesis
/// run: a store inserts it (at the start, with no origins) when the first edit that names one of
/// its characters arrives and an `assign` of that value is in its op log (Protocol.md, "The
/// genesis run").
public enum TextGenesis {
    /// The replica id of the characters of `text` as a value of `field` of `entity`: the first 16
    /// bytes of SHA-256 over `articlesync text genesis 1`, the entity kind as a decimal string,
    /// the entity id, the field name and the text (UTF-8), each followed by a NUL byte.
    public static func replica(of entity: EntityRef, field: String, text: String) -> ReplicaID {
        var hasher = SHA256()
        for part in ["articlesync text genesis 1", String(entity.kind.rawValue), entity.id, field, text] {
            hasher.update(data: Data(part.utf8))
            hasher.update(data: Data([0]))
        }
        return ReplicaID(bytes: Array(hasher.finalize().prefix(16)))!
    }

    /// The genesis run of `text`; nil for an empty text (it has no characters).
    public static func insert(of entity: EntityRef, field: String, text: String) -> TextInsert? {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        return TextInsert(id: CharID(replica: replica(of: entity, field: field, text: text), seq: 0), left: nil, right: nil, text: scalars)
    }

    /// The text `value` as a field starts with it: its genesis run and nothing else.
    public static func sequence(of entity: EntityRef, field: String, text: String) -> TextSequence {
        var sequence = TextSequence()
        if let run = insert(of: entity, field: field, text: text) { sequence.apply(.insert(run)) }
        return sequence
    }
}

extension TextSequence {
    /// The edits waiting for characters that have not arrived, in no particular order.
    public var pendingEdits: [TextEdit] { pending.values.flatMap { $0 } }

    /// The replicas whose characters waiting edits need.
    public var awaitedReplicas: Set<ReplicaID> {
        Set(pending.keys.map { replicas[Int(Self.agent(of: $0))] })
    }

    /// Whether the text holds any character typed under `replica` (tombstones included).
    public func holdsCharacters(of replica: ReplicaID) -> Bool {
        guard let a = agentIndex[replica] else { return false }
        return !content[Int(a)].isEmpty  // grown only when characters are stored
    }
}
