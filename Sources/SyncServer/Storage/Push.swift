public import SyncModel
public import SyncWire

/// A verified frame a device asks to store.
public struct PushRequest: Sendable {
    public let library: String
    public let deviceID: String
    public let changeset: Changeset
    /// The frame as received (stored as is unless the decision trims it).
    public let frame: [UInt8]

    public init(library: String, deviceID: String, changeset: Changeset, frame: [UInt8]) {
        self.library = library; self.deviceID = deviceID; self.changeset = changeset; self.frame = frame
    }

    /// The frame's format major version (header byte 4).
    public var format: UInt8 { frame.count > 4 ? frame[4] : 0 }
}

/// Another device of the library bound to a replica: a binding outlives its device's
/// revocation, so that no other device can take the replica over and push ops as it.
public struct ReplicaOwner: Sendable, Equatable {
    public let deviceID: String
    public let revoked: Bool

    public init(deviceID: String, revoked: Bool) {
        self.deviceID = deviceID; self.revoked = revoked
    }
}

/// What a backend reads, inside the push transaction, for the policy to decide on.
public struct PushState: Sendable, Equatable {
    /// The pushing device as stored now (nil: it no longer exists).
    public let device: Device?
    /// Another device of the library (active or revoked) already bound to the frame's replica.
    public let replicaOwner: ReplicaOwner?
    /// The highest counter of the frame's replica the library holds (every op 1…acked).
    public let acked: Int64
    /// The library's head sequence number.
    public let head: Int64
    public let epoch: String
    /// The ops of the frame's replica the library holds with counters in the frame's range
    /// (`first…min(last, acked)`), in counter order: what a replay or an overlap must match.
    /// Empty when the frame starts after `acked`.
    public let held: [Op]

    public init(device: Device?, replicaOwner: ReplicaOwner?, acked: Int64, head: Int64, epoch: String, held: [Op] = []) {
        self.device = device; self.replicaOwner = replicaOwner; self.acked = acked; self.head = head; self.epoch = epoch
        self.held = held
    }

    /// The ops of one stored frame whose counters are in `range`, for ``held``. `first…last` are
    /// the counters the stored row stands for (a format-1 overlap is stored as received, with
    /// the ops before `first` it repeats). A stored frame that no longer decodes is `.failed`.
    public static func heldOps(
        stored bytes: [UInt8], first: Int64, last: Int64, within range: ClosedRange<Int64>
    ) throws(ServerStoreError) -> [Op] {
        let changeset: Changeset
        do {
            changeset = try Changeset.decode(bytes, limits: storedFrameLimits)
        } catch {
            throw ServerStoreError(.failed, "a stored frame (counters \(first)…\(last)) cannot be read: \(error.reason)")
        }
        let lo = max(first, range.lowerBound), hi = min(last, range.upperBound)
        return changeset.ops.filter { Int64($0.id.counter) >= lo && Int64($0.id.counter) <= hi }
    }

    /// Stored frames passed the server's limits when they were pushed (whatever they were then).
    static let storedFrameLimits = ChangesetLimits(
        maxCompressedBytes: Int(UInt32.max), maxUncompressedBytes: Int(UInt32.max), maxInflateRatio: Int(UInt32.max),
        maxOps: Int(UInt32.max))
}

/// A frame to append: bytes as they will be served, and the counters they hold.
public struct StoredFrame: Sendable, Equatable {
    public let bytes: [UInt8]
    public let first: Int64
    public let last: Int64
    public let opCount: Int
    /// The frame's format major version (pull pages tell old clients what they cannot read).
    public let format: UInt8

    public init(bytes: [UInt8], first: Int64, last: Int64, opCount: Int, format: UInt8) {
        self.bytes = bytes; self.first = first; self.last = last; self.opCount = opCount; self.format = format
    }
}

/// Why a push is refused; nothing is written, bindings included.
public enum PushRefusal: Sendable, Equatable {
    /// The device vanished or was revoked between authentication and the write.
    case deviceGone
    case readOnly
    /// The device is bound to another replica, or the replica belongs to another active device.
    case replicaMismatch(String)
    /// The replica belongs to a revoked device (`owner`): it is never pushed by another device
    /// unless an administrator enrols a replacement for that device.
    case replicaRevoked(owner: String)
    /// The frame starts after `acked + 1`.
    case gap(acked: Int64)
    /// The frame's op of this counter differs from the one the library holds (content or stamp).
    case equivocation(counter: Int64)
    /// The frame cannot be stored as asked.
    case malformed(String)
}

/// What the policy decided.
public enum PushDecision: Sendable, Equatable {
    case refuse(PushRefusal)
    /// Everything in the frame is already held: nothing to write.
    case replay
    /// Append `frame`; bind the frame's replica to the device first when `bindReplica`.
    case append(StoredFrame, bindReplica: Bool)
}

/// What a push did.
public enum PushResult: Sendable, Equatable {
    case refused(PushRefusal)
    case replay(acked: Int64, head: Int64, epoch: String)
    case stored(acked: Int64, seq: Int64, epoch: String, opsStored: Int)
}
