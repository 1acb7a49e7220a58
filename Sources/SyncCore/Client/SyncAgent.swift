public import Foundation
public import Logging
import SyncFailpoints
import SyncModel
public import SyncStore
import SyncWire

/// When the agent syncs, and how long it waits after a failure.
public struct AgentSettings: Sendable {
    /// Quiet time after the last local change before syncing it.
    public var debounce: Double = 2
    /// Sync at least this often while all is well (picks up colleagues' work).
    public var interval: Double = 60
    /// Backoff while the server is unreachable: from `minBackoff`, doubling, up to `maxBackoff`,
    /// with jitter.
    public var minBackoff: Double = 1
    public var maxBackoff: Double = 120
    /// How often to look for local changes and for a stop or poke.
    public var tick: Double = 0.25

    public init() {}
}

/// `synccli agent`: keeps a laptop in sync without anyone typing `synccli sync`. It syncs
/// shortly after local changes (debounced), periodically while online, and right away when the
/// server answers again after a failure; it backs off exponentially with jitter while the
/// server is unreachable and never sends a request before a `Retry-After` has passed. Only one
/// sync runs per store at a time (``SyncLock``), and a stop request lets the page or frame in
/// progress finish, never half of one.
public actor SyncAgent {
    let store: Store
    let settings: AgentSettings
    let logger: Logger
    let makeClient: @Sendable () throws -> SyncClient
    let now: @Sendable () -> Date

    private var stopRequested = false
    private var poked = false
    public private(set) var syncs = 0
    public private(set) var failures = 0

    public init(
        store: Store, settings: AgentSettings = AgentSettings(), logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init,
        makeClient: @escaping @Sendable () throws -> SyncClient
    ) {
        self.store = store; self.settings = settings; self.logger = logger; self.now = now; self.makeClient = makeClient
    }

    /// Ask the agent to stop after the unit of work in progress.
    public func stop() { stopRequested = true }
    /// Ask for a sync now (a network came up).
    public func poke() { poked = true }
    public var isStopping: Bool { stopRequested }

    /// Runs until ``stop()``.
    public func run() async {
        logger.info(
            "agent started",
            metadata: [
                "store": "\(store.path)", "replica": "\(store.replica.short)",
                "interval_s": "\(settings.interval)", "debounce_s": "\(settings.debounce)",
            ])
        var lastOwn = (try? store.ownOpCount()) ?? 0
        var changedAt: Date?
        var nextPeriodic = now()  // sync once at start
        var notBefore = now()  // backoff / Retry-After
        var backoff = settings.minBackoff
        var failing = false
        while !stopRequested {
            let own = (try? store.ownOpCount()) ?? lastOwn
            if own != lastOwn { lastOwn = own; changedAt = now() }
            let t = now()
            var reason: String?
            if poked {
                reason = "poked"
            } else if failing {
                reason = "retrying after failure"
            } else if let changedAt, t.timeIntervalSince(changedAt) >= settings.debounce {
                reason = "local changes"
            } else if t >= nextPeriodic {
                reason = "periodic"
            }
            if let reason, t >= notBefore {
                poked = false
                let startOwn = own
                switch await syncOnce(reason: reason) {
                case .ok:
                    failing = false
                    backoff = settings.minBackoff
                    if (try? store.ownOpCount()) == startOwn { changedAt = nil }
                    nextPeriodic = now().addingTimeInterval(settings.interval)
                case .busy(let retryAfter):
                    let wait = max(retryAfter ?? 0, jitter(backoff))
                    notBefore = now().addingTimeInterval(wait)
                    failing = true
                    backoff = min(settings.maxBackoff, backoff * 2)
                    logger.notice(
                        "server busy, waiting", metadata: ["wait_s": "\(rounded(wait))", "retry_after_s": "\(retryAfter.map { "\($0)" } ?? "-")"])
                case .unreachable(let why):
                    let wait = jitter(backoff)
                    notBefore = now().addingTimeInterval(wait)
                    failing = true
                    backoff = min(settings.maxBackoff, backoff * 2)
                    logger.notice("server unreachable, waiting", metadata: ["wait_s": "\(rounded(wait))", "error": "\(why)"])
                case .lockBusy:
                    notBefore = now().addingTimeInterval(1)
                    logger.info("another sync is running on this store, waiting", metadata: ["wait_s": "1"])
                case .failed(let why):
                    // Bad token, refused data …: retrying quickly will not help; try again slowly.
                    let wait = settings.maxBackoff
                    notBefore = now().addingTimeInterval(wait)
                    failing = true
                    logger.error("sync failed", metadata: ["error": "\(why)", "wait_s": "\(wait)"])
                }
            }
            try? await Task.sleep(nanoseconds: UInt64(settings.tick * 1e9))
        }
        logger.info("agent stopped", metadata: ["syncs": "\(syncs)", "failures": "\(failures)"])
    }

    enum Outcome { case ok, busy(Double?), unreachable(String), lockBusy, failed(String) }

    func syncOnce(reason: String) async -> Outcome {
        let lock: SyncLock
        do { lock = try await SyncLock.acquire(for: store, wait: 0) } catch { return .lockBusy }
        lock.describe("the sync agent (pid \(getpid()))")
        defer { lock.release() }
        let started = now()
        do {
            var client = try makeClient()
            client.shouldStop = { [weak self] in
                guard let self else { return true }
                return self.stopFlag.value
            }
            let (first, pushed, second) = try await client.sync()
            syncs += 1
            logger.info(
                "synced",
                metadata: [
                    "reason": "\(reason)", "pulled": "\(first.opsApplied + second.opsApplied)", "pushed": "\(pushed.opsSent)",
                    "acked": "\(pushed.acked)", "ms": "\(Int(now().timeIntervalSince(started) * 1000))",
                ])
            return .ok
        } catch let e as SyncClientError {
            failures += 1
            try? store.recordSyncFailure(e.reason)
            switch e.code {
            case .retryLater: return .busy(e.retryAfter)
            case .unavailable: return .unreachable(e.reason)
            default: return .failed(e.reason)
            }
        } catch {
            failures += 1
            try? store.recordSyncFailure("\(error)")
            return .failed("\(error)")
        }
    }

    /// The stop flag, readable from the client's synchronous `shouldStop` hook.
    nonisolated let stopFlag = AtomicFlag()

    public nonisolated func requestStop() {
        stopFlag.set()
        Task { await self.stop() }
    }

    func jitter(_ seconds: Double) -> Double { Double.random(in: seconds / 2...seconds) }
    func rounded(_ s: Double) -> String { String(format: "%.1f", s) }
}

/// A thread-safe boolean that can only be raised.
public final class AtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    public init() {}
    public var value: Bool { lock.withLock { raised } }
    public func set() { lock.withLock { raised = true } }
}
