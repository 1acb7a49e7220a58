import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// The outermost middleware: gives the request an id (the client's `X-Request-Id` when it is
/// sane, else a fresh one) and echoes it, turns every error into our JSON error shape (so that
/// even a 404 or an unexpected failure has `{"error", "reason"}`), counts requests and
/// refusals, logs one line per request (device id, never the token), and refuses work past
/// the concurrency cap with 503 `overloaded`.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = SyncRequestContext
    let metrics: ServerMetrics
    let inFlight: InFlightCounter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Self.requestID(from: request.headers[.requestID])
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.logger[metadataKey: "hb.request.id"] = nil  // ours replaces Hummingbird's counter
        let started = ContinuousClock.now

        var response: Response
        var refusal: APIError?
        if inFlight.enter() {
            defer { inFlight.leave() }
            do {
                response = try await next(request, context)
            } catch let carried as ResponseCarryingError {
                refusal = carried.error
                response = carried.response
            } catch {
                let syncError = APIError.from(error)
                if syncError.code == .internalError {
                    context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                refusal = syncError
                response = syncError.response()
            }
        } else {
            let syncError = APIError(.overloaded, "the server is handling too many requests; retry shortly", retryAfter: 1)
            refusal = syncError
            response = syncError.response()
        }
        if let refusal { metrics.rejection(refusal.code) }
        response.headers[.requestID] = requestID
        let route = context.endpointPath ?? "unmatched"
        metrics.request(route: route, method: request.method.rawValue, status: response.status.code)

        let elapsed = started.duration(to: .now)
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code),
            "ms": .string(String(format: "%.1f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)),
        ]
        if let device = context.shared.deviceID { metadata["device"] = .string(device) }
        if let refusal { metadata["error"] = .string(refusal.code.rawValue) }
        context.logger.info("request", metadata: metadata)
        return response
    }

    /// Accepts 1…128 characters of `[A-Za-z0-9._:-]`; anything else is replaced, so that a
    /// client cannot inject text into our logs.
    static func requestID(from header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count),
            header.utf8.allSatisfy({ c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: ":") || c == UInt8(ascii: "-")
            })
        {
            return header
        }
        return randomHex(8)
    }
}
