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

@Suite("auth")
struct AuthTests {
    @Test func `a revoked token works until revoked, then the next request is 401 invalid_token`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            #expect(try await client.pull(since: "0", token: f.writer.token).status == .noContent)
            // Revoke from another connection pool, as `syncserver device revoke` in another process does.
            let admin = try SQLiteServerStore.open(dataDirectory: f.dir, create: false)
            #expect(try await admin.revokeDevice(id: f.writer.device.id))
            let refused = try await client.pull(since: "0", token: f.writer.token)
            #expect(refused.status == .unauthorized)
            #expect(refused.errorCode == "invalid_token")
            #expect(refused.header("WWW-Authenticate") != nil)
            let push = try await client.push(try frame(ReplicaID.random(), 1...1), token: f.writer.token)
            #expect(push.errorCode == "invalid_token")
            // Other devices are untouched.
            #expect(try await client.pull(since: "0", token: f.writer2.token).status == .noContent)
        }
        #expect(try await f.storedFrames().isEmpty)
    }

    @Test func `tokens are stored only as SHA-256 hashes`() async throws {
        let f = try await Fixture.make()
        _ = try await f.store.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        let file = try Data(contentsOf: URL(fileURLWithPath: f.dir + "/server.sqlite"))
        for token in [f.writer.token, f.reader.token] {
            #expect(file.range(of: Data(token.utf8)) == nil)
            #expect(file.range(of: Data(DeviceToken.hash(token).utf8)) != nil)
        }
    }

    @Test func `token format is ast_ plus 43 base64url characters`() {
        let token = DeviceToken.generate()
        #expect(token.value.hasPrefix("ast_"))
        #expect(token.value.count == 47)
        #expect(DeviceToken(token.value) != nil)
        #expect(DeviceToken("ast_short") == nil)
        #expect(DeviceToken.fromAuthorization("Bearer \(token.value)") == token)
        #expect(DeviceToken.fromAuthorization("bearer \(token.value)") == token)
        #expect(DeviceToken.fromAuthorization("Basic \(token.value)") == nil)
        #expect(DeviceToken.fromAuthorization(token.value) == nil)
        #expect(DeviceToken.generate() != DeviceToken.generate())
    }

    @Test func `requests over the per-device rate are 429 rate_limited with Retry-After`() async throws {
        let f = try await Fixture.make {
            $0.rateLimitPerSecond = 0.5; $0.rateLimitBurst = 3
        }
        try await f.app().test(.router) { client async throws in
            for _ in 0..<3 {
                #expect(try await client.pull(since: "0", token: f.writer.token).status == .noContent)
            }
            let limited = try await client.pull(since: "0", token: f.writer.token)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.errorCode == "rate_limited")
            let retryAfter = try #require(limited.header("Retry-After").flatMap(Int.init))
            #expect((1...2).contains(retryAfter))
            // A push over the rate is refused before anything is read or stored.
            let push = try await client.push(try frame(ReplicaID.random(), 1...1), token: f.writer.token)
            #expect(push.errorCode == "rate_limited")
            // Another device has its own bucket.
            #expect(try await client.pull(since: "0", token: f.writer2.token).status == .noContent)
        }
        #expect(try await f.storedFrames().isEmpty)
    }

    @Test func `the request id is echoed when sane and generated otherwise`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            var fields = headers(token: nil, contentType: nil)
            fields[HTTPField.Name("X-Request-Id")!] = "abc-123"
            let echoed = try await client.executeRequest(uri: "/healthz", method: .get, headers: fields, body: nil)
            #expect(echoed.header("X-Request-Id") == "abc-123")
            fields[HTTPField.Name("X-Request-Id")!] = "bad id\u{1b}[31m"
            let replaced = try await client.executeRequest(uri: "/healthz", method: .get, headers: fields, body: nil)
            #expect(replaced.header("X-Request-Id")?.count == 16)
        }
    }
}
