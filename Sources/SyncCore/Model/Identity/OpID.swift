/// The identity of one op: the replica that made it and its per-replica counter (1, 2, 3 … with
/// no gaps). This is what makes push and pull idempotent.
public struct OpID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let replica: ReplicaID
    public let counter: UInt64

    public init(replica: ReplicaID, counter: UInt64) {
        self.replica = replica
        self.counter = counter
    }

    public static func < (a: OpID, b: OpID) -> Bool {
        a.replica == b.replica ? a.counter < b.counter : a.replica < b.replica
    }

    public var description: String { "\(replica.short):\(counter)" }
}

/// A version stamp that totally orders writes: HLC first, replica id as the tie-break. The same
/// on every replica, so concurrent writes resolve the same way everywhere.
public struct Stamp: Hashable, Comparable, Sendable {
    public let hlc: HLC
    public let op: OpID

    public init(hlc: HLC, op: OpID) { self.hlc = hlc; self.op = op }

    public static func < (a: Stamp, b: Stamp) -> Bool {
        if a.hlc != b.hlc { return a.hlc < b.hlc }
        return a.op < b.op
    }
}
