import SyncFailpoints
import SyncModel
import SyncStore
import SyncWire

/// Why a sync did not complete. The CLI maps ``Code`` to an exit code.
public struct SyncClientError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No remote, no token, a bad URL.
        case config
        /// The server cannot be reached (after retries).
        case unavailable
        /// The server is busy or rate-limiting (after retries): try again later.
        case retryLater
        /// The token is missing, wrong or revoked, or lacks the right.
        case denied
        /// The server refused what we sent.
        case rejected
        /// The server sent something we cannot accept.
        case protocolError
    }
    public let code: Code
    public let reason: String
    /// The server's machine-readable error code, when it sent one.
    public var serverCode: String?
    /// Seconds the server asked us to wait (`Retry-After`), when it did.
    public var retryAfter: Double?

    public init(_ code: Code, _ reason: String, serverCode: String? = nil, retryAfter: Double? = nil) {
        self.code = code; self.reason = reason; self.serverCode = serverCode; self.retryAfter = retryAfter
    }

    public var description: String { reason }
}
