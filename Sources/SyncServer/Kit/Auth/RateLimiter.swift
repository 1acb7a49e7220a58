import Foundation
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// A token bucket per key (the device id): `rate` requests per second on average, bursts of up
/// to `burst`. Shared by every request task, hence an actor.
///
/// ```swift
/// let limiter = RateLimiter(rate: 20, burst: 40)
/// if let wait = await limiter.take("dev_1a2b") { throw APIError(.rateLimited, …, retryAfter: wait) }
/// ```
public actor RateLimiter {
    public let rate: Double
    public let burst: Double
    private var buckets: [String: (tokens: Double, at: ContinuousClock.Instant)] = [:]
    private let clock = ContinuousClock()
    private var takesSinceSweep = 0

    public init(rate: Double, burst: Double) {
        self.rate = max(rate, 0.001)
        self.burst = max(burst, 1)
    }

    /// Takes one token for `key`: nil when allowed, else the whole seconds to wait (≥ 1).
    public func take(_ key: String) -> Int? {
        let now = clock.now
        var bucket = buckets[key] ?? (burst, now)
        let elapsed = bucket.at.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(burst, bucket.tokens + seconds * rate)
        bucket.at = now
        defer { sweepIfNeeded(now) }
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
        buckets[key] = bucket
        return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
    }

    /// Drops full buckets now and then so that the table stays as small as the active devices.
    private func sweepIfNeeded(_ now: ContinuousClock.Instant) {
        takesSinceSweep += 1
        guard takesSinceSweep >= 10_000 else { return }
        takesSinceSweep = 0
        let full = Duration.seconds(burst / rate)
        buckets = buckets.filter { $0.value.at.duration(to: now) < full }
    }
}

/// Bounds work in flight: at most `limit` holders at once, others wait in order.
actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) { available = max(1, limit) }

    func acquire() async {
        if available > 0 { available -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { available += 1 } else { waiters.removeFirst().resume() }
    }
}

/// Counts requests in flight, refusing past a cap (answered 503 `overloaded`).
final class InFlightCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard count < limit else { return false }
        count += 1
        return true
    }

    func leave() {
        lock.lock(); count -= 1; lock.unlock()
    }
}
