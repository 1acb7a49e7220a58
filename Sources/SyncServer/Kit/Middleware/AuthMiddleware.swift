import HTTPTypes
import Hummingbird
import Logging
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// Guards every /v1 route: reads the epoch and the token's device in one read (never cached,
/// so a revocation made by `syncserver device revoke` in another process counts at the next
/// request), refuses bad tokens, checks the device is enrolled for the library in the URL,
/// applies the per-device rate limit, and stamps `ArticleSync-Epoch` on every response,
/// refusals included.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SyncRequestContext
    let store: any ServerStore
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let token = DeviceToken.fromAuthorization(request.headers[.authorization])
        let (epoch, device) = try await store.lookup(tokenHash: token?.hash)
        context.epoch = epoch
        // The device id (even of a revoked token) goes in the request's log line; never the token.
        if let device { context.shared.deviceID = device.id }
        var response: Response
        do {
            context.device = try Self.authorize(request: request, context: context, token: token, device: device)
            if let device = context.device {
                context.logger[metadataKey: "device"] = .string(device.id)
                if let wait = await limiter.take(device.id) {
                    throw APIError(
                        .rateLimited, "device \(device.id) is over its request rate; retry in \(wait) s",
                        retryAfter: wait)
                }
            }
            response = try await next(request, context)
        } catch {
            let syncError = APIError.from(error)
            if syncError.code == .internalError {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            response = syncError.response()
            response.headers[.epoch] = epoch
            // Thrown rather than returned so that the outer middleware counts it as a refusal.
            throw ResponseCarryingError(response: response, error: syncError)
        }
        if response.headers[.epoch] == nil { response.headers[.epoch] = epoch }
        return response
    }

    static func authorize(request: Request, context: Context, token: DeviceToken?, device: Device?) throws(APIError) -> Device {
        guard token != nil else {
            let reason =
                request.headers[.authorization] == nil
                ? "missing Authorization header: send `Authorization: Bearer ast_…`"
                : "malformed Authorization header: expected `Bearer ast_` followed by 43 base64url characters"
            throw APIError(.unauthorized, reason)
        }
        guard let device else { throw APIError(.invalidToken, "unknown token: enrol this device with `syncserver device enroll`") }
        guard !device.isRevoked else { throw APIError(.invalidToken, "this device's token was revoked") }
        if let library = context.parameters.get("library"), library != device.library {
            throw APIError(.forbidden, "this device is not enrolled for library \(library)")
        }
        return device
    }
}

/// A refusal whose response (with headers such as the epoch) is already built.
struct ResponseCarryingError: Error, HTTPResponseError {
    let response: Response
    let error: APIError
    var status: HTTPResponse.Status { response.status }
    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}
