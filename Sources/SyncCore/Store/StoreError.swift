import SyncModel
import SyncWire

/// Why a store operation was refused. Every case says what happened and what to do; the CLI maps
/// ``Code`` to a sysexits exit code in one place.
public struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No store at the path (run `synccli init`).
        case notInitialized = "not_initialized"
        case alreadyExists = "already_exists"
        /// An id that names nothing in the store.
        case notFound = "not_found"
        /// Input that cannot be accepted as given (an empty title, a quote not in the article …).
        case invalidInput = "invalid_input"
        /// Malformed data (a bad JSONL line, a corrupt changeset).
        case invalidData = "invalid_data"
        /// The article is in the trash; restore it before working on it.
        case trashed
        /// Another process holds the store.
        case locked
        /// A remote op stamped too far in the future.
        case futureTimestamp = "future_timestamp"
        /// The file cannot be opened or is not a store.
        case unreadable
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
