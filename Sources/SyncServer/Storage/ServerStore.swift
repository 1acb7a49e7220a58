public import ServiceLifecycle

/// What the server keeps, behind a small, dumb interface so that a deployment can choose its
/// database (`StorageBackend` in SyncServerCommands): the embedded SQLite file by default.
///
/// A backend offers primitive operations, each one transaction, and reports failures as
/// storage-neutral ``ServerStoreError``s. It decides nothing about who may push what: the push
/// route's policy (`PushPolicy` in SyncServerKit) does, inside ``push(_:decide:)``, from the state
/// the backend read in the same transaction. A backend is a ServiceLifecycle `Service`: it runs
/// until graceful shutdown and then closes its connections, after the HTTP server has stopped.
///
/// Every backend must pass `Tests/ServerStoreConformanceTests` unchanged.
///
/// ```swift
/// let store: any ServerStore = try SQLiteServerStore.open(dataDirectory: "/var/lib/articlesync")
/// let result = try await store.push(request) { state in PushPolicy.decide(request, state) }
/// ```
///
/// ## Topics
/// - Requests: ``lookup(tokenHash:)``, ``push(_:decide:)``, ``changes(library:since:limit:maxBytes:excluding:)``, ``summary(library:)``
/// - Administration: ``createLibrary(_:)``, ``enrollDevice(library:name:readOnly:tokenHash:replacing:)``, ``revokeDevice(id:)``, ``rotateEpoch()``
public protocol ServerStore: Service {
    /// The epoch and the device whose token hashes to `tokenHash` (revoked ones included, so
    /// the caller can tell "unknown" from "revoked"), read together. Never cached.
    func lookup(tokenHash: String?) async throws -> (epoch: String, device: Device?)

    /// One push, in one write transaction that excludes every other push of the library: reads
    /// the ``PushState`` of the frame's replica, asks `decide` what to do, and applies exactly
    /// that — nothing for a refusal or a replay; for an append, the frame stored as the library's
    /// next sequence number, the replica's ack and the library's head advanced, and the replica
    /// bound to the device when the decision says so.
    func push(_ request: PushRequest, decide: @Sendable (PushState) -> PushDecision) async throws -> PushResult

    /// The stored frames with seq > `since`, in seq order, up to `limit` frames or `maxBytes`
    /// (always at least one frame when there is one), leaving out the frames pushed by replica
    /// `excluding` (hex id). The page's `next` covers the frames left out: it is the head when
    /// the page reaches it, else the last frame in the page.
    func changes(library: String, since: Int64, limit: Int, maxBytes: Int, excluding: String?) async throws -> ChangesPage
    func summary(library: String) async throws -> LibrarySummary?
    /// Answers when the database does (readiness).
    func ping() async throws

    // Administration (the `syncserver` admin commands; safe while the server runs).
    func createLibrary(_ name: String) async throws
    func libraries() async throws -> [String]
    /// Enrols a device of `library`. With `replacing`, in the same transaction, the device of
    /// that id (of the same library) is revoked, if it is not yet, and its replica binding moves
    /// to the new device: the only way a replica changes devices (a re-enrolled laptop).
    func enrollDevice(library: String, name: String, readOnly: Bool, tokenHash: String, replacing: String?) async throws -> Device
    func devices() async throws -> [Device]
    /// False when no active device has that id.
    func revokeDevice(id: String) async throws -> Bool
    func epoch() async throws -> String
    func rotateEpoch() async throws -> String
}

extension ServerStore {
    /// Enrols a new device, bound to no replica until its first stored push.
    public func enrollDevice(library: String, name: String, readOnly: Bool, tokenHash: String) async throws -> Device {
        try await enrollDevice(library: library, name: name, readOnly: readOnly, tokenHash: tokenHash, replacing: nil)
    }
}
