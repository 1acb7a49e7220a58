import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerStorage
import SyncModel
import SyncWire
import Testing

@testable import ServerStoreSQLite
@testable import SyncServerCommands
@testable import SyncServerKit

/// A server data directory in a temporary folder, with one library ("newsroom"), a read-write
/// device, a read-only device, a device of another library, and helpers to build frames and
/// read back what the server holds. The directory is removed when the fixture goes away.
final class Fixture: Sendable {
    static let library = "newsroom"
    let dir: String
    let store: SQLiteServerStore
    let config: ServerConfig
    let metrics = ServerMetrics()
    let writer: Enrolled
    let writer2: Enrolled
    let reader: Enrolled
    let outsider: Enrolled

    init(
        dir: String, store: SQLiteServerStore, config: ServerConfig, writer: Enrolled, writer2: Enrolled,
        reader: Enrolled, outsider: Enrolled
    ) {
        self.dir = dir
        self.store = store
        self.config = config
        self.writer = writer
        self.writer2 = writer2
        self.reader = reader
        self.outsider = outsider
    }

    deinit {
        try? FileManager.default.removeItem(atPath: dir)
    }

    struct Enrolled: Sendable {
        let token: String
        let device: Device
    }

    static func make(_ configure: (inout ServerConfig) -> Void = { _ in }) async throws -> Fixture {
        let dir = NSTemporaryDirectory() + "syncserver-test-" + UUID().uuidString
        var config = ServerConfig(dataDirectory: dir)
        config.logLevel = .warning
        configure(&config)
        let store = try SQLiteServerStore.open(dataDirectory: dir, create: true)
        try await store.createLibrary(library)
        try await store.createLibrary("archive")
        func enroll(_ library: String, _ name: String, readOnly: Bool = false) async throws -> Enrolled {
            let token = DeviceToken.generate()
            let device = try await store.enrollDevice(library: library, name: name, readOnly: readOnly, tokenHash: token.hash)
            return Enrolled(token: token.value, device: device)
        }
        return Fixture(
            dir: dir, store: store, config: config,
            writer: try await enroll(library, "laptop"), writer2: try await enroll(library, "desk"),
            reader: try await enroll(library, "editor", readOnly: true),
            outsider: try await enroll("archive", "archivist"))
    }

    func app() -> some ApplicationProtocol {
        buildApplication(config, store: store, metrics: metrics)
    }

    /// The library head and the ack the server holds for `replica`.
    func state(_ replica: ReplicaID) async throws -> (head: Int64, acked: Int64) {
        let summary = try #require(try await store.summary(library: Self.library))
        return (summary.head, summary.replicas[replica.description] ?? 0)
    }

    func storedFrames() async throws -> [ChangesPage.Frame] {
        try await store.changes(library: Self.library, since: 0, limit: 100_000, maxBytes: .max).frames
    }
}

// MARK: Frames

func ops(_ replica: ReplicaID, _ counters: ClosedRange<UInt64>) -> [Op] {
    counters.map { c in
        Op(
            id: OpID(replica: replica, counter: c), hlc: HLC(millis: 1_718_000_000_000 + c),
            body: .setAdd(.article("a\(c % 7)"), set: "tags", element: "tag-\(c)"))
    }
}

func frame(_ replica: ReplicaID, _ counters: ClosedRange<UInt64>) throws -> [UInt8] {
    try Changeset.encode(ops(replica, counters))
}

// MARK: Requests

func headers(token: String?, contentType: String? = PushRoute.mediaType, accept: String? = nil) -> HTTPFields {
    var fields = HTTPFields()
    if let token { fields[.authorization] = "Bearer \(token)" }
    if let contentType { fields[.contentType] = contentType }
    if let accept { fields[.accept] = accept }
    return fields
}

extension TestClientProtocol {
    func push(
        _ bytes: [UInt8], token: String?, library: String = Fixture.library,
        contentType: String? = PushRoute.mediaType
    ) async throws -> TestResponse {
        try await executeRequest(
            uri: "/v1/libraries/\(library)/changesets", method: .post,
            headers: headers(token: token, contentType: contentType),
            body: ByteBuffer(bytes: bytes))
    }

    /// A pull as this version's client makes it (`accept`: what it says it reads).
    func pull(
        since: String, limit: String? = nil, token: String?, library: String = Fixture.library,
        accept: String? = SyncAPI.accept
    ) async throws -> TestResponse {
        var uri = "/v1/libraries/\(library)/changes?since=\(since)"
        if let limit { uri += "&limit=\(limit)" }
        return try await executeRequest(uri: uri, method: .get, headers: headers(token: token, contentType: nil, accept: accept), body: nil)
    }

    func get(_ uri: String, token: String? = nil) async throws -> TestResponse {
        try await executeRequest(uri: uri, method: .get, headers: headers(token: token, contentType: nil), body: nil)
    }
}

extension TestResponse {
    /// The `{"error", "reason", …}` body as a dictionary.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }
    var errorCode: String? { json["error"] as? String }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

extension Data {
    init(buffer: ByteBuffer) { self.init(buffer.readableBytesView) }
}

extension Fixture {
    /// Enrols one more read-write device of the library.
    func enroll(_ name: String) async throws -> Enrolled {
        let token = DeviceToken.generate()
        let device = try await store.enrollDevice(library: Self.library, name: name, readOnly: false, tokenHash: token.hash)
        return Enrolled(token: token.value, device: device)
    }
}

extension SQLiteServerStore {
    /// Caps the database at the pages it has now, so the next write that needs a page fails with
    /// SQLITE_FULL exactly as on a full disk (the writer connection keeps the cap).
    func fillDisk() async throws {
        try await pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages)")
        }
    }
}
