import Foundation
public import SyncModel

/// The HTTP vocabulary the sync server and its clients share (Protocol.md, "Sync server HTTP
/// API"): paths, headers, the changeset media type and the error codes with their statuses,
/// defined once so that neither side re-types a string the other must match.
///
/// ```swift
/// let path = SyncAPI.Path.changes(library: "newsroom", since: 42, limit: 100)
/// // "/v1/libraries/newsroom/changes?since=42&limit=100"
/// SyncAPI.ErrorCode.gap.status   // 409
/// ```
///
/// ## Topics
/// - ``Path``, ``Header``, ``mediaType``
/// - ``ErrorCode``, ``ErrorBody``
public enum SyncAPI {
    /// `Content-Type` of a push body and of a pull page: changeset frames back to back.
    public static let mediaType = "application/vnd.articlesync.changeset"

    /// What a client of this version sends as `Accept`: it reads frames up to format 3 (the
    /// previous release sent `version=2`). A client that names no `version` (wave 1) reads format
    /// 1 only.
    public static let accept = "\(mediaType); version=\(Changeset.formatMajor), application/json"

    /// The highest frame format an `Accept` header says the client reads (1 when it says none).
    public static func readableFormat(accept: String?) -> UInt8 {
        guard let accept else { return 1 }
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first?.lowercased() == mediaType else { continue }
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2, pair[0].lowercased() == "version", let v = UInt8(pair[1]) { return max(1, v) }
            }
        }
        return 1
    }

    public enum Path {
        /// The route pattern of a library (the server's router).
        public static let libraryPattern = "v1/libraries/:library"
        public static let changesetsComponent = "changesets"
        public static let changesComponent = "changes"
        public static let health = "/healthz"
        public static let ready = "/readyz"
        public static let metrics = "/metrics"

        /// `/v1/libraries/{library}`, the name percent-encoded.
        public static func library(_ name: String) -> String {
            "/v1/libraries/" + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? name)
        }

        /// `POST` here to push one frame.
        public static func changesets(library name: String) -> String { library(name) + "/" + changesetsComponent }

        /// `GET` here to pull the frames after `since`, without those `excluding` pushed.
        public static func changes(library name: String, since: Int64, limit: Int, excluding: ReplicaID? = nil) -> String {
            library(name) + "/" + changesComponent + "?since=\(since)&limit=\(limit)" + (excluding.map { "&exclude=\($0)" } ?? "")
        }
    }

    public enum Header {
        /// The server's epoch, on every `/v1` response (refusals included).
        public static let epoch = "ArticleSync-Epoch"
        /// On a pull page: the cursor for the next pull.
        public static let next = "ArticleSync-Next"
        /// On a pull page: `true` if frames after `Next` exist.
        public static let more = "ArticleSync-More"
        /// On a pull page: the library's head sequence number.
        public static let head = "ArticleSync-Head"
        public static let requestID = "X-Request-Id"
        public static let retryAfter = "Retry-After"
    }

    /// Every `error` a refusal can carry, with its HTTP status.
    public enum ErrorCode: String, Sendable, CaseIterable, Codable {
        case unauthorized = "unauthorized"
        case invalidToken = "invalid_token"
        case forbidden = "forbidden"
        case readOnly = "read_only"
        case replicaMismatch = "replica_mismatch"
        case replicaRevoked = "replica_revoked"
        case unsupportedMediaType = "unsupported_media_type"
        case tooLarge = "too_large"
        case badChangeset = "bad_changeset"
        case unsupportedVersion = "unsupported_version"
        case clockSkew = "clock_skew"
        case hlcBackwards = "hlc_backwards"
        case equivocation = "equivocation"
        case gap = "gap"
        case badCursor = "bad_cursor"
        case badLimit = "bad_limit"
        case cursorAhead = "cursor_ahead"
        case clientTooOld = "client_too_old"
        case rateLimited = "rate_limited"
        case overloaded = "overloaded"
        case notReady = "not_ready"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case badRequest = "bad_request"
        case incompleteBody = "incomplete_body"
        case insufficientStorage = "insufficient_storage"
        case internalError = "internal"

        public var status: Int {
            switch self {
            case .unauthorized, .invalidToken: 401
            case .forbidden, .readOnly, .replicaMismatch, .replicaRevoked: 403
            case .unsupportedMediaType: 415
            case .tooLarge: 413
            case .badChangeset, .unsupportedVersion, .clockSkew, .hlcBackwards: 422
            case .gap, .cursorAhead, .equivocation: 409
            case .clientTooOld: 406
            case .badCursor, .badLimit, .badRequest, .incompleteBody: 400
            case .rateLimited: 429
            case .overloaded, .notReady: 503
            case .notFound: 404
            case .methodNotAllowed: 405
            case .insufficientStorage: 507
            case .internalError: 500
            }
        }
    }

    /// `{"error": "<code>", "reason": "<human sentence>"}`, plus `acked` (for `gap`) or `head`
    /// (for `cursor_ahead`).
    public struct ErrorBody: Codable, Sendable, Equatable {
        public let error: String
        public let reason: String?
        public let acked: Int64?
        public let head: Int64?

        public init(error: String, reason: String?, acked: Int64? = nil, head: Int64? = nil) {
            self.error = error; self.reason = reason; self.acked = acked; self.head = head
        }

        public var code: ErrorCode? { ErrorCode(rawValue: error) }
    }
}
