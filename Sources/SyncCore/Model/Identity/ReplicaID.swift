import Foundation

/// The identity of one store (one laptop install, or the server's own log): 16 random bytes,
/// shown as 32 lowercase hex characters.
///
/// ```swift
/// let id = ReplicaID.random()
/// print(id)            // "9f0c…" (32 hex chars)
/// ReplicaID(hex: id.description) == id   // true
/// ```
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public init?(hex: String) {
        guard hex.utf8.count == 32 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var iterator = hex.utf8.makeIterator()
        while let hi = iterator.next(), let lo = iterator.next() {
            guard let h = Self.nibble(hi), let l = Self.nibble(lo) else { return nil }
            out.append(h << 4 | l)
        }
        self.bytes = out
    }

    public static func random() -> ReplicaID {
        var generator = SystemRandomNumberGenerator()
        return ReplicaID(bytes: (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    public var description: String { bytes.hexString }

    /// A short form for people (first 8 hex chars), like a git abbreviated hash.
    public var short: String { String(description.prefix(8)) }

    public static func < (a: ReplicaID, b: ReplicaID) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
