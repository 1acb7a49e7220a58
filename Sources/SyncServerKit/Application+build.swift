import Hummingbird
import HummingbirdCore
import NIOCore
import Logging

/// Builds the sync server: opens the data directory's database and wires the routes. Tests
/// call the same function with a temporary directory (or pass their own store).
///
/// ```swift
/// let app = try await buildApplication(ServerConfig(dataDirectory: dir))
/// try await app.test(.router) { client in … }
/// ```
public func buildApplication(_ config: ServerConfig) async throws -> some ApplicationProtocol {
    let store = try SQLiteServerStore.open(dataDirectory: config.dataDirectory, create: true)
    return buildApplication(config, store: store)
}

public func buildApplication(_ config: ServerConfig, store: any ServerStore, metrics: ServerMetrics = ServerMetrics(),
                             logger: Logger? = nil) -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "syncserver")
    logger.logLevel = config.logLevel
    let router = buildRouter(config, store: store, metrics: metrics)
    let server: HTTPServerBuilder = .http1(configuration: .init(
        idleTimeout: config.idleTimeoutSeconds > 0 ? .seconds(Int64(config.idleTimeoutSeconds)) : nil))
    return Application(
        router: router,
        server: server,
        configuration: .init(
            address: .hostname(config.host, port: config.port),
            serverName: "articlesync",
            availableConnectionsDelegate: config.maxConnections > 0
                ? MaximumAvailableConnections(config.maxConnections, logger: logger) : nil),
        logger: logger)
}

/// The routes, in one place (Protocol.md, "Sync server HTTP API", is their specification).
public func buildRouter(_ config: ServerConfig, store: any ServerStore, metrics: ServerMetrics) -> Router<SyncRequestContext> {
    let router = Router(context: SyncRequestContext.self)
    router.middlewares.add(RequestMiddleware(metrics: metrics, inFlight: InFlightCounter(limit: max(1, config.maxConcurrentRequests))))

    let health = HealthRoutes(store: store, metrics: metrics)
    router.get("healthz", use: health.healthz)
    router.get("readyz", use: health.readyz)
    router.get("metrics", use: health.metricsText)

    let push = PushRoute(store: store, config: config, metrics: metrics, pushSlots: AsyncSemaphore(config.maxConcurrentPushes))
    let pull = PullRoute(store: store, config: config, metrics: metrics)
    let library = LibraryRoute(store: store)
    router.group("v1/libraries/:library")
        .add(middleware: AuthMiddleware(store: store, limiter: RateLimiter(rate: config.rateLimitPerSecond, burst: config.rateLimitBurst)))
        .get(use: library.handle)
        .post("changesets", use: push.handle)
        .get("changes", use: pull.handle)
    return router
}
