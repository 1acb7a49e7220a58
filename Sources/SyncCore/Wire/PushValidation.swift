public import SyncModel

/// The push route's checks on the body itself, as one pure function (no I/O, no HTTP types) so
/// that the fuzzer (`Fuzz/`) can drive exactly what the server runs on untrusted bytes: the
/// frame is verified completely (limits from the header, inflate, length, SHA-256, every op,
/// nothing after it), its counters must fit the server's integers, no op may be stamped
/// further than `maxClockSkewMillis` past the server's clock, and the ops' stamps never go
/// backwards within the frame (a replica's clock never does).
///
/// ```swift
/// switch PushValidation.validate(bytes, limits: config.changesetLimits, nowMillis: now, maxClockSkewMillis: 300_000) {
/// case .success(let changeset): …
/// case .failure(let refusal): … // refusal.code is a Protocol.md error code
/// }
/// ```
public enum PushValidation {
    /// A refusal: `code` is the wire error code (`too_large`, `bad_changeset`,
    /// `unsupported_version`, `clock_skew`, `hlc_backwards`), `reason` the human sentence.
    public struct Refusal: Error, Equatable, Sendable {
        public let code: String
        public let reason: String
    }

    public static func validate(
        _ bytes: [UInt8], limits: ChangesetLimits, nowMillis: UInt64,
        maxClockSkewMillis: UInt64
    ) -> Result<Changeset, Refusal> {
        let changeset: Changeset
        do {
            changeset = try Changeset.decode(bytes, limits: limits)
        } catch {
            switch error.code {
            case .unsupportedVersion, .unsupportedFrameType, .encrypted:
                return .failure(Refusal(code: "unsupported_version", reason: error.reason))
            case .tooLarge, .inflateRatio, .tooManyOps: return .failure(Refusal(code: "too_large", reason: error.reason))
            default: return .failure(Refusal(code: "bad_changeset", reason: "\(error.code.rawValue): \(error.reason)"))
            }
        }
        guard changeset.lastCounter <= UInt64(Int64.max) else {
            return .failure(Refusal(code: "bad_changeset", reason: "op counter \(changeset.lastCounter) is out of range"))
        }
        if let refusal = clockSkew(changeset.ops, nowMillis: nowMillis, maxClockSkewMillis: maxClockSkewMillis) {
            return .failure(refusal)
        }
        if let refusal = clockOrder(changeset.ops) { return .failure(refusal) }
        return .success(changeset)
    }

    /// The first op stamped earlier than the op before it (same replica, next counter), as an
    /// `hlc_backwards` refusal; nil when the stamps never decrease. A replica's clock never goes
    /// back (Protocol.md, "Identity and order"), so such a frame was not written by a correct
    /// store, and storing it would give later readers ops whose stamp order contradicts their
    /// counter order.
    public static func clockOrder(_ ops: [Op]) -> Refusal? {
        guard ops.count > 1 else { return nil }
        for i in 1..<ops.count where ops[i].hlc < ops[i - 1].hlc {
            let (op, previous) = (ops[i], ops[i - 1])
            return Refusal(
                code: "hlc_backwards",
                reason: """
                    op \(op.id.replica.description):\(op.id.counter) is stamped \(op.hlc.raw), before op \(previous.id.counter) \
                    (\(previous.hlc.raw)): a replica's clock never goes backwards, so this frame was not written by a correct \
                    store. Nothing was stored
                    """)
        }
        return nil
    }

    /// The first op stamped more than `maxClockSkewMillis` after `nowMillis`, as a `clock_skew`
    /// refusal; nil when every op is within the bound (or the bound is 0, the check disabled).
    /// Storing such an op would poison every pull: each reader refuses ops from its future.
    public static func clockSkew(_ ops: [Op], nowMillis: UInt64, maxClockSkewMillis: UInt64) -> Refusal? {
        guard maxClockSkewMillis > 0 else { return nil }
        let (limit, overflow) = nowMillis.addingReportingOverflow(maxClockSkewMillis)
        guard !overflow, let bad = ops.first(where: { $0.hlc.millis > limit }) else { return nil }
        let ahead = bad.hlc.millis - nowMillis
        return Refusal(
            code: "clock_skew",
            reason: """
                op \(bad.id.replica.description):\(bad.id.counter) is stamped \(describe(ahead)) ahead of the server's clock \
                (limit \(describe(maxClockSkewMillis))): this laptop's clock is wrong. Set it right (enable NTP); \
                ops already recorded keep their stamps and are accepted once the server's clock reaches them. \
                Nothing was stored
                """)
    }

    static func describe(_ millis: UInt64) -> String {
        let seconds = millis / 1000
        if seconds >= 2 * 86_400 { return "\(seconds / 86_400) days" }
        if seconds >= 2 * 3600 { return "\(seconds / 3600) hours" }
        if seconds >= 120 { return "\(seconds / 60) minutes" }
        return "\(seconds) s"
    }
}
