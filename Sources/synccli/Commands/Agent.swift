import ArgumentParser
import Foundation
import Logging
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep this laptop in sync by itself (runs in the foreground until stopped).",
        discussion: """
            Syncs a few seconds after local changes, every --interval seconds while online, and \
            as soon as the server answers again after a failure. While the server is unreachable \
            it backs off exponentially (with jitter) up to --max-backoff, and it never calls \
            before a server's Retry-After. SIGUSR1 asks for a sync now (see \
            deploy/articlesync-network-up, a NetworkManager hook); SIGTERM or Ctrl-C stop it \
            after the page in progress. Only one sync runs per store: a manual `synccli sync` \
            waits for the agent's sync to finish.

            Run it as a systemd user service: see deploy/synccli-agent.service and README.md.
            Logs are structured key=value lines on stderr.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Seconds between syncs while all is well.") var interval: Double = 60
    @Option(help: "Seconds of quiet after a local change before syncing it.") var debounce: Double = 2
    @Option(help: "Longest wait between attempts while the server is unreachable (seconds).") var maxBackoff: Double = 120
    @Option(help: "Shortest wait after a failure (seconds).") var minBackoff: Double = 1
    @Option(help: "Log level: debug, info, notice, warning, error.") var logLevel: String = "info"

    func validate() throws {
        guard interval > 0, debounce >= 0, minBackoff > 0, maxBackoff >= minBackoff else {
            throw ValidationError("intervals must be positive and --max-backoff ≥ --min-backoff")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level '\(logLevel)'") }
    }

    func run() async throws {
        try await guarded {
            let s = try store.open()
            _ = try SyncClient(store: s)  // fail now, clearly, if no remote or token is configured
            var logger = Logger(label: "synccli.agent") { StreamLogHandler.standardError(label: $0) }
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            var settings = AgentSettings()
            settings.interval = interval
            settings.debounce = debounce
            settings.minBackoff = minBackoff
            settings.maxBackoff = maxBackoff
            let agent = SyncAgent(store: s, settings: settings, logger: logger) {
                var client = try SyncClient(store: s, retry: RetryPolicy(maxAttempts: 1))
                client.progress = nil
                return client
            }
            let pidFile = AgentPIDFile(store: s)
            try pidFile.write()
            defer { pidFile.remove() }
            let signals = SignalWatcher()
            signals.on(SIGTERM) { agent.requestStop() }
            signals.on(SIGINT) { agent.requestStop() }
            signals.on(SIGUSR1) { Task { await agent.poke() } }
            await agent.run()
        }
    }
}

/// `<store>.agent.pid`: lets `status` say whether the agent runs, and scripts poke it.
struct AgentPIDFile {
    let path: String
    init(store: Store) { path = store.path + ".agent.pid" }

    func write() throws {
        if let pid = running() {
            throw CLIFailure(Exit.tempFail, "an agent (pid \(pid)) already runs on this store")
        }
        try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// The pid of a live agent, if any (a stale file from a killed agent is ignored).
    func running() -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            kill(pid, 0) == 0 || errno == EPERM
        else { return nil }
        return pid
    }
}

/// Turns Unix signals into closures (the default action is disabled for watched signals).
final class SignalWatcher: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    func on(_ signo: Int32, _ action: @escaping @Sendable () -> Void) {
        signal(signo, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
        sources.append(source)
    }
}
