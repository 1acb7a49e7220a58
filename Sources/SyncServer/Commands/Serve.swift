import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServerStorage
import ServerStoreSQLite
import ServiceLifecycle
import SyncModel
import SyncServerKit
import UnixSignals

/// `syncserver serve`: runs the HTTP server until SIGTERM or SIGINT, then stops accepting,
/// lets in-flight requests finish (a push commits or rolls back as one transaction) and exits.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the sync server.",
        discussion: """
            Settings come from flags, then ARTICLESYNC_* environment variables, then --config FILE \
            (JSON object or key = value lines), then defaults. Keys: \(ServerConfig.keys.joined(separator: ", ")).
            """)

    @Option(help: ArgumentHelp("The server's data directory (created if missing).", valueName: "DIR")) var data: String?
    @Option(help: "Address to listen on (default 127.0.0.1; put a TLS reverse proxy in front).") var host: String?
    @Option(help: "Port to listen on (default 8080).") var port: Int?
    @Option(help: ArgumentHelp("A config file: JSON object or key = value lines.", valueName: "FILE")) var config: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?

    func resolvedConfig(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfig {
        var resolved = ServerConfig(dataDirectory: "")
        do {
            let configPath = config ?? environment["ARTICLESYNC_CONFIG"]
            if let configPath { try resolved.apply(try ServerConfig.fileValues(path: configPath), source: configPath) }
            try resolved.apply(ServerConfig.environmentValues(environment), source: "environment")
            var flags: [String: String] = [:]
            flags["data"] = data
            flags["host"] = host
            flags["port"] = port.map(String.init)
            flags["log_level"] = logLevel
            try resolved.apply(flags, source: "command line")
        } catch {
            throw ValidationError(error.description)
        }
        guard !resolved.dataDirectory.isEmpty else {
            throw ValidationError("say where the data directory is: --data DIR, ARTICLESYNC_DATA or `data` in the config file")
        }
        return resolved
    }

    func run() async throws {
        let config = try resolvedConfig()
        let level = config.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        var logger = Logger(label: "syncserver")
        logger.logLevel = level

        let backend = StorageBackend.sqlite(dataDirectory: config.dataDirectory)
        let store: any ServerStore
        do {
            store = try backend.open(create: true)
        } catch {
            logger.critical("cannot open the data directory", metadata: ["storage": .string(backend.description), "error": "\(error)"])
            throw ExitCode(78)  // EX_CONFIG
        }
        let epoch = try await store.epoch()
        let libraries = try await store.libraries()
        logger.info(
            "starting",
            metadata: [
                "storage": .string(backend.description), "host": .string(config.host), "port": .stringConvertible(config.port),
                "epoch": .string(epoch), "libraries": .stringConvertible(libraries.count),
            ])
        if libraries.isEmpty {
            logger.warning("no libraries yet: create one with `syncserver library create NAME --data \(config.dataDirectory)`")
        }
        let app = buildApplication(config, store: store, metrics: metrics, logger: logger)
        // The store starts first and stops last: graceful shutdown runs in reverse order, so the
        // HTTP server has finished its in-flight pushes before the database closes.
        var groupConfig = ServiceGroupConfiguration(
            services: [store, app], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        // Below the systemd unit's TimeoutStopSec (30 s): after this, requests are cancelled.
        groupConfig.maximumGracefulShutdownDuration = .seconds(20)
        try await ServiceGroup(configuration: groupConfig).run()
        logger.info("stopped")
    }
}
