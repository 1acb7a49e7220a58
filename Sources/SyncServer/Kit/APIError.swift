import Foundation
import HTTPTypes
public import Hummingbird
public import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// A refusal the server sends as `{"error": "<code>", "reason": "<sentence>"}`. The code decides
/// the status, in one place (`Code.status`), so a handler only says what went wrong.
///
/// ```swift
/// throw APIError(.gap, "server holds counters 1…7 of replica 9f0c…; push from 8", acked: 7)
/// ```
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case unauthorized = "unauthorized"
        case invalidToken = "invalid_token"
        case forbidden = "forbidden"
        case readOnly = "read_only"
        case replicaMismatch = "replica_mismatch"
        case unsupportedMediaType = "unsupported_media_type"
        case tooLarge = "too_large"
        case badChangeset = "bad_changeset"
        case unsupportedVersion = "unsupported_version"
        case clockSkew = "clock_skew"
        case gap = "gap"
        case badCursor = "bad_cursor"
        case badLimit = "bad_limit"
        case cursorAhead = "cursor_ahead"
        case rateLimited = "rate_limited"
        case overloaded = "overloaded"
        case notReady = "not_ready"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case badRequest = "bad_request"
        case insufficientStorage = "insufficient_storage"
        case internalError = "internal"

        public var status: HTTPResponse.Status {
            switch self {
            case .unauthorized, .invalidToken: .unauthorized
            case .forbidden, .readOnly, .replicaMismatch: .forbidden
            case .unsupportedMediaType: .unsupportedMediaType
            case .tooLarge: .contentTooLarge
            case .badChangeset, .unsupportedVersion, .clockSkew: .unprocessableContent
            case .gap, .cursorAhead: .conflict
            case .badCursor, .badLimit, .badRequest: .badRequest
            case .rateLimited: .tooManyRequests
            case .overloaded, .notReady: .serviceUnavailable
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .insufficientStorage: .init(code: 507, reasonPhrase: "Insufficient Storage")
            case .internalError: .internalServerError
            }
        }
    }

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

    public var status: HTTPResponse.Status { code.status }
    public var description: String { "\(code.rawValue): \(reason)" }

    struct Body: Encodable {
        let error: String
        let reason: String
        let acked: Int64?
        let head: Int64?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    func response() -> Response {
        var response = Response.json(Body(error: code.rawValue, reason: reason, acked: acked, head: head), status: status)
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
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
