import Crypto
import Foundation
public import SyncModel
import SyncStore
import SyncWire

/// What makes a workload replay reproducible to the byte: the stores' clocks follow the
/// workload's timestamps, replica ids come from the replica names, and collection and
/// annotation ids from a seeded generator. Two runs of `articlesync-bench --deterministic` on
/// the same workload end with identical `canonicalDump()`s, so a refactoring can be checked to
/// change nothing users see.
///
/// ```swift
/// let clock = WorkloadClock()
/// let store = try Store.create(at: path, replica: Deterministic.replica("A"), now: clock.now,
///                              identifiers: SeededIdentifiers(seed: "A").make)
/// replay.clock = clock   // set to each op's `ts` before it is replayed
/// ```
public enum Deterministic {
    /// A replica id derived from a name: the first 16 bytes of SHA-256("bench-replica\0" + name).
    public static func replica(_ name: String) -> ReplicaID {
        ReplicaID(bytes: Array(SHA256.hash(data: Array(("bench-replica\u{0}" + name).utf8)).prefix(16)))!
    }
}

/// A wall clock a replay sets by hand (milliseconds since 1970).
public final class WorkloadClock: @unchecked Sendable {
    private let lock = NSLock()
    private var millis: UInt64

    public init(millis: UInt64 = 1_706_774_400_000) { self.millis = millis }

    public func set(_ value: UInt64) { lock.withLock { millis = value } }

    public var now: @Sendable () -> UInt64 { { [self] in lock.withLock { millis } } }
}

/// UUIDv7-shaped ids from a seeded SplitMix64 stream instead of the system's random bytes.
public final class SeededIdentifiers: @unchecked Sendable {
    private let lock = NSLock()
    private var state: UInt64

    public init(seed: String) {
        state = Array(SHA256.hash(data: Array(seed.utf8))).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    private func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public var make: @Sendable (UInt64) -> String {
        { [self] now in
            let (a, b) = lock.withLock { (next(), next()) }
            var bytes =
                (0..<8).map { UInt8(truncatingIfNeeded: a >> (8 * UInt64($0))) }
                + (0..<8).map { UInt8(truncatingIfNeeded: b >> (8 * UInt64($0))) }
            for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: now >> (8 * (5 - UInt64(i)))) }
            bytes[6] = 0x70 | (bytes[6] & 0x0f)
            bytes[8] = 0x80 | (bytes[8] & 0x3f)
            let hex = Array(bytes.hexString)
            return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
        }
    }
}
