import Foundation
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

@Suite("operations")
struct OperationsTests {
    @Test func `the writer connection runs with synchronous=FULL`() async throws {
        let f = try await Fixture.make()
        #expect(try await f.store.writerSynchronous() == 2)
        // Still FULL after pushes (the writer connection is the same) and after reopening.
        try await f.app().test(.router) { client async throws in
            _ = try await client.push(try frame(ReplicaID.random(), 1...3), token: f.writer.token)
        }
        #expect(try await f.store.writerSynchronous() == 2)
        let reopened = try SQLiteServerStore.open(dataDirectory: f.dir, create: false)
        #expect(try await reopened.writerSynchronous() == 2)
        #expect(try await reopened.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test func `healthz, readyz and metrics answer`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let health = try await client.get("/healthz")
            #expect(health.status == .ok)
            #expect(String(buffer: health.body).hasPrefix("ok"))
            #expect(try await client.get("/readyz").status == .ok)
            _ = try await client.push(try frame(ReplicaID.random(), 1...3), token: f.writer.token)
            _ = try await client.push([1, 2, 3], token: f.writer.token)
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == .ok)
            let text = String(buffer: metrics.body)
            #expect(text.contains("articlesync_http_requests_total{route=\"/v1/libraries/{library}/changesets\",method=\"POST\",status=\"200\"} 1"))
            #expect(text.contains("articlesync_pushes_total{result=\"stored\"} 1"))
            #expect(text.contains("articlesync_ops_stored_total 3"))
            #expect(text.contains("articlesync_rejections_total{code=\"bad_changeset\"} 1"))
            #expect(text.contains("articlesync_bytes_in_total"))
        }
    }

    @Test func `readyz is 503 not_ready when the database does not answer`() async throws {
        let f = try await Fixture.make()
        try f.store.pool.close()
        try await f.app().test(.router) { client async throws in
            let response = try await client.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorCode == "not_ready")
            #expect(try await client.get("/healthz").status == .ok)
        }
    }

    @Test func `an unknown route is a JSON 404`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let response = try await client.get("/v2/nothing")
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
        }
    }

    @Test func `rotating the epoch shows on every response`() async throws {
        let f = try await Fixture.make()
        let before = try await f.store.epoch()
        let after = try await f.store.rotateEpoch()
        #expect(before != after)
        #expect(after.count == 32)
        try await f.app().test(.router) { client async throws in
            #expect(try await client.pull(since: "0", token: f.writer.token).header("ArticleSync-Epoch") == after)
            #expect(try await client.pull(since: "0", token: nil).header("ArticleSync-Epoch") == after)
        }
    }

    @Test func `configuration comes from flags, then environment, then file, then defaults`() throws {
        let dir = NSTemporaryDirectory() + "syncserver-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let kv = dir + "/server.conf"
        try """
        # comment
        data = /srv/from-file
        port = 9000
        host = "0.0.0.0"
        rate_limit_burst = 7
        max_body_bytes = 1_048_576
        """.write(toFile: kv, atomically: true, encoding: .utf8)
        let serve = try Serve.parse(["--config", kv, "--port", "9100"])
        let config = try serve.resolvedConfig(environment: ["ARTICLESYNC_HOST": "10.0.0.1", "ARTICLESYNC_RATE_LIMIT_PER_SECOND": "3"])
        #expect(config.dataDirectory == "/srv/from-file")
        #expect(config.port == 9100)  // flag over file
        #expect(config.host == "10.0.0.1")  // environment over file
        #expect(config.rateLimitBurst == 7)  // file over default
        #expect(config.rateLimitPerSecond == 3)
        #expect(config.maxBodyBytes == 1 << 20)
        #expect(config.idleTimeoutSeconds == 60)  // default

        let json = dir + "/server.json"
        try #"{"data": "/srv/json", "port": 8181, "max_connections": 10}"#.write(toFile: json, atomically: true, encoding: .utf8)
        let fromJSON = try Serve.parse(["--config", json]).resolvedConfig(environment: [:])
        #expect(fromJSON.port == 8181)
        #expect(fromJSON.maxConnections == 10)

        try "prot = 1\n".write(toFile: kv, atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try Serve.parse(["--config", kv, "--data", "/x"]).resolvedConfig(environment: [:]) }
        #expect(throws: (any Error).self) { try Serve.parse([]).resolvedConfig(environment: [:]) }
    }
}
