import SyncCore

/// What the server keeps, behind a small interface so that PostgreSQL can replace SQLite later
/// (see `SQLiteServerStore`). Every method is one transaction; `push` in particular either
/// stores a changeset, advances the replica's ack and the library head together, or does nothing.
///
/// ```swift
/// let store = try SQLiteServerStore.open(dataDirectory: "/var/lib/articlesync")
/// let outcome = try await store.push(PushRequest(library: "newsroom", device: device, …))
/// ```
public protocol ServerStore: Sendable {
    /// The epoch and the device whose token hashes to `tokenHash` (revoked ones included, so
    /// the caller can tell "unknown" from "revoked"), read together. Never cached.
    func lookup(tokenHash: String?) async throws -> (epoch: String, device: Device?)
    /// Stores one verified changeset exactly once (see `PushOutcome`).
    func push(_ request: PushRequest) async throws -> PushOutcome
    /// The stored frames with seq > `since`, in seq order, up to `limit` frames or `maxBytes`
    /// (always at least one frame when there is one).
    func changes(library: String, since: Int64, limit: Int, maxBytes: Int) async throws -> ChangesPage
    func summary(library: String) async throws -> LibrarySummary?
    /// Answers when the database does (readiness).
    func ping() async throws

    // Administration (the `syncserver` admin commands; safe while the server runs).
    func createLibrary(_ name: String) async throws
    func libraries() async throws -> [String]
    func enrollDevice(library: String, name: String, readOnly: Bool, tokenHash: String) async throws -> Device
    func devices() async throws -> [Device]
    func revokeDevice(id: String) async throws -> Bool
    func epoch() async throws -> String
    func rotateEpoch() async throws -> String
}

/// An enrolled device: one token, one library, read-only or read-write.
public struct Device: Sendable, Hashable, Codable {
    public let id: String
    public let library: String
    public let name: String
    public let readOnly: Bool
    /// Bound on the first push: this device may only push ops of this replica.
    public let replica: String?
    public let createdAt: Int64
    public let revokedAt: Int64?

    public var isRevoked: Bool { revokedAt != nil }
}

public struct PushRequest: Sendable {
    public let library: String
    public let deviceID: String
    public let changeset: Changeset
    /// The frame as received (stored as is when nothing is trimmed).
    public let frame: [UInt8]
}

public enum PushOutcome: Sendable, Equatable {
    /// Stored (possibly trimmed to the ops the server lacked).
    case stored(acked: Int64, seq: Int64, epoch: String, opsStored: Int)
    /// Everything in the frame was already held: nothing written.
    case replay(acked: Int64, head: Int64, epoch: String)
    /// The frame starts after `acked + 1`.
    case gap(acked: Int64)
    /// The device is bound to another replica, or the replica belongs to another device.
    case replicaMismatch(String)
    /// The device vanished or was revoked between authentication and the write.
    case deviceGone
}

public struct ChangesPage: Sendable {
    public let epoch: String
    public let head: Int64
    public let frames: [(seq: Int64, bytes: [UInt8])]
    public var next: Int64? { frames.last?.seq }
    public var byteCount: Int { frames.reduce(0) { $0 + $1.bytes.count } }
}

public struct LibrarySummary: Sendable, Codable, Equatable {
    public let library: String
    public let epoch: String
    public let head: Int64
    public let changesets: Int64
    public let ops: Int64
    public let replicas: [String: Int64]
}

/// Thrown by admin operations for problems a person must fix.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
