/// A hybrid logical clock timestamp: 48 bits of wall-clock milliseconds and a 16-bit counter,
/// packed in one `UInt64` so that ordinary integer order is clock order.
///
/// Ops are ordered by `(hlc, replica)`; see ``OpID``.
public struct HLC: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let raw: UInt64

    public init(raw: UInt64) { self.raw = raw }
    public init(millis: UInt64, counter: UInt16 = 0) { raw = millis << 16 | UInt64(counter) }

    /// Wall-clock milliseconds since 1970.
    public var millis: UInt64 { raw >> 16 }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: raw) }

    public static let zero = HLC(raw: 0)
    public static func < (a: HLC, b: HLC) -> Bool { a.raw < b.raw }
    public var description: String { "\(millis).\(counter)" }

    /// The timestamp for a new local event: later than `last` whatever the wall clock says, and
    /// equal to the wall clock when the wall clock is ahead. A wall clock that jumps back cannot
    /// move the clock backwards.
    public static func tick(last: HLC, nowMillis: UInt64) -> HLC {
        let now = HLC(millis: nowMillis)
        return now > last ? now : HLC(raw: last.raw + 1)
    }

    /// The clock after receiving a remote timestamp: strictly later than both, so that any edit
    /// made after seeing a remote edit orders after it.
    public static func receive(last: HLC, remote: HLC) -> HLC {
        HLC(raw: max(last.raw, remote.raw) + 1)
    }
}
