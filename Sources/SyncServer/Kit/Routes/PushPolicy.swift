public import ServerStorage
public import SyncModel
import SyncWire

/// Who may push what, in one place: library scope, read-only devices, the replica a device is
/// bound to, and what to do with a frame that overlaps what the server holds (the same ops: a
/// replay; other ops under held ids: equivocation). Pure: the storage
/// backend calls ``decide(_:_:)`` inside its push transaction with the state it just read, and
/// does exactly what it returns.
///
/// ```swift
/// let result = try await store.push(request) { state in PushPolicy.decide(request, state) }
/// ```
public enum PushPolicy {
    /// The checks that need no storage, made before the body is read: a read-only device is
    /// refused without reading its 32 MiB.
    public static func mayPush(_ device: Device) -> PushRefusal? {
        device.readOnly ? .readOnly : nil
    }

    /// The first counter whose op in `ops` (one frame: one replica, contiguous counters) is not
    /// the op the library holds for it (`held`), or nil. Two ops are the same when their ids,
    /// stamps and bodies in the op log's encoding are: whatever format carried them, a replay
    /// of a stored op matches it, and an op with other content under a stored id does not.
    public static func equivocation(_ ops: [Op], held: [Op]) -> Int64? {
        guard let first = ops.first?.id.counter else { return nil }
        for op in held where op.id.counter >= first && op.id.counter - first < UInt64(ops.count) {
            let pushed = ops[Int(op.id.counter - first)]
            guard pushed.id == op.id, pushed.hlc == op.hlc else { return Int64(op.id.counter) }
            // Fast path: the same bytes as stored (a store re-sends the bodies it keeps).
            if let a = pushed.encodedBody, let b = op.encodedBody, a == b { continue }
            if OpCodec.encodeBody(pushed) != OpCodec.encodeBody(op) { return Int64(op.id.counter) }
        }
        return nil
    }

    public static func decide(_ request: PushRequest, _ state: PushState) -> PushDecision {
        guard let device = state.device, !device.isRevoked, device.library == request.library else {
            return .refuse(.deviceGone)
        }
        if let refusal = mayPush(device) { return .refuse(refusal) }
        let changeset = request.changeset
        let replica = changeset.replica.description
        if let bound = device.replica, bound != replica {
            return .refuse(.replicaMismatch("this device pushes replica \(bound), not \(replica)"))
        }
        if device.replica == nil, let owner = state.replicaOwner {
            if owner.revoked { return .refuse(.replicaRevoked(owner: owner.deviceID)) }
            return .refuse(
                .replicaMismatch(
                    "replica \(replica) belongs to device \(owner.deviceID); to move it to this device, enrol this device with `syncserver device enroll --replaces \(owner.deviceID)`"
                ))
        }
        let first = Int64(changeset.firstCounter), last = Int64(changeset.lastCounter)
        if let counter = equivocation(changeset.ops, held: state.held) { return .refuse(.equivocation(counter: counter)) }
        if last <= state.acked { return .replay }
        if first > state.acked + 1 { return .refuse(.gap(acked: state.acked)) }
        let bind = device.replica == nil
        guard first <= state.acked else {
            return .append(
                StoredFrame(
                    bytes: request.frame, first: first, last: last, opCount: changeset.ops.count,
                    format: request.format), bindReplica: bind)
        }
        let fresh = changeset.ops.filter { Int64($0.id.counter) > state.acked }
        // An overlap from a wave-1 client (format 1) is stored as it came: its readers ignore the
        // ops they hold, and a frame re-encoded in format 2 would be one they cannot read.
        if request.format == 1 {
            return .append(
                StoredFrame(
                    bytes: request.frame, first: state.acked + 1, last: last, opCount: fresh.count,
                    format: 1), bindReplica: bind)
        }
        // Otherwise store only the ops the server lacks, in the format they came in (a laptop of
        // the previous version reads format 2 only).
        do {
            let bytes = try Changeset.encode(fresh, format: request.format)
            return .append(
                StoredFrame(
                    bytes: bytes, first: state.acked + 1, last: last, opCount: fresh.count,
                    format: request.format), bindReplica: bind)
        } catch {
            return .refuse(.malformed("the ops after \(state.acked) cannot be stored: \(error.reason)"))
        }
    }
}
