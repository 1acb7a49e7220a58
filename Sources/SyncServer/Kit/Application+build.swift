public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
public import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// Builds the sync server over a storage backend: wires the routes, the limits and the metrics.
/// `syncserver serve` and the tests call the same function (the command picks the backend).
///
/// ```swift
/// let app = buildApplication(ServerConfig(dataDirectory: dir), store: try SQLiteServerStore.open(dataDirectory: dir))
/// try await app.test(.router) { client in … }
/// ```
public func buildApplication(
    _ config: ServerConfig, store: any ServerStore, metrics: ServerMetrics = ServerMetrics(),
    logger: Logger? = nil
) -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "syncserver")
    logger.logLevel = config.logLevel
    let router = buildRouter(config, store: store, metrics: metrics)
    let parseLogger = logger
    let server: HTTPServerBuilder = .http1(
        configuration: .init(
            // A request NIO cannot parse gets our JSON 400, not Hummingbird's empty one.
            additionalChannelHandlers: [ParseErrorResponder(metrics: metrics, logger: parseLogger)],
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
    router.get(RouterPath(SyncAPI.Path.health), use: health.healthz)
    router.get(RouterPath(SyncAPI.Path.ready), use: health.readyz)
    router.get(RouterPath(SyncAPI.Path.metrics), use: health.metricsText)

    // Decoding a frame may inflate up to the payload limit: pushes and the re-encoding of frames
    // for previous-release clients share one bound on how many run at once.
    let decodeSlots = AsyncSemaphore(config.maxConcurrentPushes)
    let push = PushRoute(store: store, config: config, metrics: metrics, pushSlots: decodeSlots)
    let pull = PullRoute(store: store, config: config, metrics: metrics, decodeSlots: decodeSlots)
    let library = LibraryRoute(store: store)
    router.group(RouterPath(SyncAPI.Path.libraryPattern))
        .add(middleware: AuthMiddleware(store: store, limiter: RateLimiter(rate: config.rateLimitPerSecond, burst: config.rateLimitBurst)))
        .get(use: library.handle)
        .post(RouterPath(SyncAPI.Path.changesetsComponent), use: push.handle)
        .get(RouterPath(SyncAPI.Path.changesComponent), use: pull.handle)
    return router
}
