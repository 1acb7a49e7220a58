import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerStorage
import ServerTestSupport
import SyncModel
import SyncWire
import Testing

@testable import ServerStoreSQLite
@testable import SyncServerCommands
@testable import SyncServerKit

/// A ``TemporaryServer`` with one library ("newsroom") and a second ("archive"), a read-write
/// device, a second one, a read-only device, a device of the other library, and helpers to read
/// back what the server holds.
final class Fixture: Sendable {
    static let library = TemporaryServer.library
    let server: TemporaryServer
    let writer: TemporaryServer.Enrolled
    let writer2: TemporaryServer.Enrolled
    let reader: TemporaryServer.Enrolled
    let outsider: TemporaryServer.Enrolled

    var store: SQLiteServerStore { server.store }
    var config: ServerConfig { server.config }
    var metrics: ServerMetrics { server.metrics }
    var dir: String { server.dir }

    private init(_ server: TemporaryServer) async throws {
        self.server = server
        writer = try await server.enroll("laptop")
        writer2 = try await server.enroll("desk")
        reader = try await server.enroll("editor", readOnly: true)
        outsider = try await server.enroll("archivist", library: "archive")
    }

    static func make(_ configure: (inout ServerConfig) -> Void = { _ in }) async throws -> Fixture {
        try await Fixture(try await TemporaryServer(libraries: [library, "archive"], configure: configure))
    }

    func app() -> some ApplicationProtocol { server.app() }

    /// The library head and the ack the server holds for `replica`.
    func state(_ replica: ReplicaID) async throws -> (head: Int64, acked: Int64) {
        let summary = try #require(try await store.summary(library: Self.library))
        return (summary.head, summary.replicas[replica.description] ?? 0)
    }

    func storedFrames() async throws -> [ChangesPage.Frame] {
        try await store.changes(library: Self.library, since: 0, limit: 100_000, maxBytes: .max, excluding: nil).frames
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
        since: String, limit: String? = nil, exclude: String? = nil, token: String?, library: String = Fixture.library,
        accept: String? = SyncAPI.accept
    ) async throws -> TestResponse {
        var uri = "/v1/libraries/\(library)/changes?since=\(since)"
        if let limit { uri += "&limit=\(limit)" }
        if let exclude { uri += "&exclude=\(exclude)" }
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
