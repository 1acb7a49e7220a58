import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServerStorage
import SyncModel
import SyncWire
import TestHarness
import Testing

@testable import ServerStoreSQLite
@testable import SyncServerCommands
@testable import SyncServerKit

@Suite("logs")
struct LogTests {
    @Test func `logs carry request and device ids but never a token`() async throws {
        let f = try await Fixture.make()
        let sink = CapturedLogs()
        var logger = Logger(label: "test") { _ in CapturingLogHandler(sink: sink) }
        logger.logLevel = .trace
        var config = f.config
        config.logLevel = .trace
        let app = buildApplication(config, store: f.store, metrics: f.metrics, logger: logger)
        let revoked = f.writer2
        _ = try await f.store.revokeDevice(id: revoked.device.id)
        try await app.test(.router) { client async throws in
            _ = try await client.push(try frame(ReplicaID.random(), 1...2), token: f.writer.token)
            _ = try await client.pull(since: "0", token: f.reader.token)
            _ = try await client.pull(since: "x", token: f.reader.token)
            _ = try await client.pull(since: "0", token: revoked.token)
            _ = try await client.pull(since: "0", token: "ast_" + String(repeating: "A", count: 43))
        }
        let lines = sink.lines
        #expect(lines.contains { $0.contains("device=\(f.writer.device.id)") && $0.contains("status=200") })
        #expect(lines.contains { $0.contains("device=\(revoked.device.id)") && $0.contains("error=invalid_token") })
        #expect(lines.allSatisfy { $0.contains("request_id=") || !$0.contains("request") })
        for token in [f.writer.token, f.reader.token, revoked.token, "AAAAAAAAAAAAAAAAAAAA"] {
            #expect(!lines.contains { $0.contains(token) }, "a token leaked into the logs")
        }
        for line in lines { #expect(!line.lowercased().contains("bearer")) }
    }
}
