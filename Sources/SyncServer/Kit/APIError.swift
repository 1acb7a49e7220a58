import Foundation
import HTTPTypes
public import Hummingbird
import ServerStorage
import SyncFailpoints
import SyncModel
public import SyncWire

/// A refusal the server sends as `{"error": "<code>", "reason": "<sentence>"}`. The code decides
/// the status, in one place (`Code.status`), so a handler only says what went wrong.
///
/// ```swift
/// throw APIError(.gap, "server holds counters 1…7 of replica 9f0c…; push from 8", acked: 7)
/// ```
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    /// The wire's error codes (SyncWire's ``SyncAPI/ErrorCode``), each with its status.
    public typealias Code = SyncAPI.ErrorCode

    public let code: Code
    public let reason: String
    /// For `gap`: the highest counter the server holds for the replica.
    public var acked: Int64?
    /// For `cursor_ahead`: the library's head sequence.
    public var head: Int64?
    /// For `rate_limited` and `overloaded`: seconds before trying again.
    public var retryAfter: Int?

    public init(_ code: Code, _ reason: String, acked: Int64? = nil, head: Int64? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.reason = reason
        self.acked = acked
        self.head = head
        self.retryAfter = retryAfter
    }

    public var status: HTTPResponse.Status {
        code == .insufficientStorage ? .init(code: 507, reasonPhrase: "Insufficient Storage") : .init(code: code.status)
    }
    public var description: String { "\(code.rawValue): \(reason)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    func response() -> Response {
        var response = Response.json(SyncAPI.ErrorBody(error: code.rawValue, reason: reason, acked: acked, head: head), status: status)
        if code == .unauthorized || code == .invalidToken {
            response.headers[.wwwAuthenticate] = "Bearer realm=\"articlesync\""
        }
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }

    /// Maps an error from Hummingbird or NIO (not found, body over the cap …) to our shape.
    static func from(_ error: any Error) -> APIError {
        if let error = error as? APIError { return error }
        if let error = error as? ServerStoreError, error.code == .storageFull {
            // Disk (or the database's page limit) full: the transaction was rolled back.
            return APIError(.insufficientStorage, "the server is out of storage space; nothing was stored: retry later")
        }
        if let error = error as? any HTTPResponseError {
            switch error.status {
            case .notFound: return APIError(.notFound, "no such route")
            case .methodNotAllowed: return APIError(.methodNotAllowed, "method not allowed on this route")
            case .contentTooLarge: return APIError(.tooLarge, "request body is over the server's limit")
            case .badRequest: return APIError(.badRequest, "malformed request")
            default: break
            }
        }
        return APIError(.internalError, "internal server error; the request was not applied")
    }
}

extension Response {
    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A JSON response; `value` is one of our own plain structs, so encoding cannot fail.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? jsonEncoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
