public import Prometheus
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// The server's Prometheus metrics, in a registry of its own (so that each test app has fresh
/// counters); `/metrics` renders it. `serve` also bootstraps swift-metrics with this registry so
/// that library metrics land in the same place.
///
/// ```swift
/// metrics.rejection(.gap)
/// let text = metrics.registry.emitToBuffer()   // what /metrics serves
/// ```
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let pushesStored: Counter
    let pushesReplayed: Counter
    let opsStored: Counter
    let bytesIn: Counter
    let bytesOut: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let pushes = Self.counter("pushes", "Pushes accepted, by result (stored or replay)")
        pushesStored = registry.makeCounter(descriptor: pushes, labels: [("result", "stored")])
        pushesReplayed = registry.makeCounter(descriptor: pushes, labels: [("result", "replay")])
        opsStored = registry.makeCounter(descriptor: Self.counter("ops_stored", "Ops appended to library logs"))
        bytesIn = registry.makeCounter(descriptor: Self.counter("bytes_in", "Changeset bytes received in push bodies"))
        bytesOut = registry.makeCounter(descriptor: Self.counter("bytes_out", "Changeset bytes sent in pull pages"))
    }

    /// `articlesync_<name>_total`.
    static func counter(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "articlesync", subsystem: nil, metricName: name, unitName: "total", helpText: help)
    }

    func request(route: String, method: String, status: Int) {
        registry.makeCounter(
            descriptor: Self.counter("http_requests", "HTTP requests, by route, method and status"),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
    }

    func rejection(_ code: APIError.Code) {
        registry.makeCounter(
            descriptor: Self.counter("rejections", "Refused requests, by error code"),
            labels: [("code", code.rawValue)]
        ).increment()
    }
}
