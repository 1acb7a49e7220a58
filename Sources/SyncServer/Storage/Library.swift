/// One page of a library's log.
public struct ChangesPage: Sendable {
    public struct Frame: Sendable {
        public let seq: Int64
        public let format: UInt8
        public let bytes: [UInt8]
        public init(seq: Int64, format: UInt8, bytes: [UInt8]) { self.seq = seq; self.format = format; self.bytes = bytes }
    }

    public let epoch: String
    public let head: Int64
    public let frames: [Frame]
    /// The seq this page covers up to: the last frame in it, or past it when frames left out of
    /// the page (the puller's own) come after that one. Nil when the page covers nothing.
    public let next: Int64?

    public init(epoch: String, head: Int64, frames: [Frame], next: Int64? = nil) {
        self.epoch = epoch; self.head = head; self.frames = frames
        self.next = next ?? frames.last?.seq
    }
    public var byteCount: Int { frames.reduce(0) { $0 + $1.bytes.count } }
}

/// What the server holds of a library (`GET /v1/libraries/{library}`).
public struct LibrarySummary: Sendable, Codable, Equatable {
    public let library: String
    public let epoch: String
    public let head: Int64
    public let changesets: Int64
    public let ops: Int64
    /// Highest counter held per replica (hex id).
    public let replicas: [String: Int64]

    public init(library: String, epoch: String, head: Int64, changesets: Int64, ops: Int64, replicas: [String: Int64]) {
        self.library = library; self.epoch = epoch; self.head = head; self.changesets = changesets; self.ops = ops
        self.replicas = replicas
    }
}

/// Why the store refused or failed, in terms any backend can report: the HTTP layer and the
/// admin commands map the code without knowing which database is behind it.
public struct ServerStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        /// A library, device or data directory that does not exist.
        case notFound
        /// A library that exists already.
        case alreadyExists
        /// The disk (or the database's size limit) is full; the transaction was rolled back.
        case storageFull
        /// The database cannot be reached or opened.
        case unavailable
        /// Anything else a person must look at (a corrupt file, a missing epoch …).
        case failed
    }

    public let code: Code
    public let description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
