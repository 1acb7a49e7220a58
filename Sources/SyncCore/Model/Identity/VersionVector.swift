import Foundation

/// What a store has seen: for each replica, the highest counter `n` such that ops 1…n are all
/// present. "Ops since a version vector" is the unit of export.
///
/// ```swift
/// var vv = VersionVector()
/// vv[a] = 12
/// vv.contains(OpID(replica: a, counter: 5))   // true
/// ```
public struct VersionVector: Hashable, Sendable {
    public private(set) var counters: [ReplicaID: UInt64] = [:]

    public init(_ counters: [ReplicaID: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    public subscript(replica: ReplicaID) -> UInt64 {
        get { counters[replica] ?? 0 }
        set { counters[replica] = newValue == 0 ? nil : newValue }
    }

    public func contains(_ op: OpID) -> Bool { op.counter <= self[op.replica] }

    /// Replicas in a stable order, for encoding and display.
    public var sorted: [(ReplicaID, UInt64)] {
        counters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Text form used on the command line and in files: `hex:counter,hex:counter`.
    public var text: String { sorted.map { "\($0.0):\($0.1)" }.joined(separator: ",") }

    public init?(text: String) {
        var result: [ReplicaID: UInt64] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":")
            guard pieces.count == 2, let r = ReplicaID(hex: String(pieces[0])),
                let c = UInt64(pieces[1])
            else { return nil }
            result[r] = c
        }
        self.init(result)
    }
}
