import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// `/healthz` (the process answers), `/readyz` (the database answers) and `/metrics`
/// (Prometheus text). Unauthenticated, with nothing secret in them: bind the server to
/// loopback or filter these paths at the reverse proxy if they should not be public.
struct HealthRoutes {
    let store: any ServerStore
    let metrics: ServerMetrics

    func healthz(_ request: Request, context: SyncRequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
    }

    func readyz(_ request: Request, context: SyncRequestContext) async throws -> Response {
        do {
            try await store.ping()
        } catch {
            context.logger.warning("not ready", metadata: ["error": "\(error)"])
            throw APIError(.notReady, "the database is not answering")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
    }

    func metricsText(_ request: Request, context: SyncRequestContext) -> Response {
        let text = metrics.registry.emitToBuffer()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }
}
