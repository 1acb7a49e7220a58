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

/// Requests that break below HTTP's level, on a real loopback socket: a client that goes away
/// mid-body, a body whose chunked encoding is broken, a request NIO cannot parse at all.
@Suite("broken connections")
struct ConnectionTests {
    /// The server on a loopback port, its log lines captured, for the duration of `body`.
    func serve(_ f: Fixture, _ body: @escaping @Sendable (Int, CapturedLogs) async throws -> Void) async throws -> CapturedLogs {
        let sink = CapturedLogs()
        var logger = Logger(label: "test") { _ in CapturingLogHandler(sink: sink) }
        logger.logLevel = .trace
        var config = f.config
        config.logLevel = .trace
        let app = buildApplication(config, store: f.store, metrics: f.metrics, logger: logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(port, sink)
        }
        return sink
    }

    /// Waits until the server has logged its line for a request to `path` (how long is not
    /// what is tested: the wait only bounds a broken test).
    func requestLine(_ sink: CapturedLogs, path: String) async throws -> CapturedLogs.Entry? {
        for _ in 0..<600 {
            if let line = sink.all.first(where: { $0.message == "request" && $0.metadata["path"] == path }) { return line }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Runs blocking socket calls on a thread of their own: not on Swift's cooperative pool nor
    /// on Dispatch's global queues (which that pool shares on Linux), both needed by the server
    /// under test and by the tests running alongside.
    func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func pushHead(token: String, length: Int, chunked: Bool = false) -> [UInt8] {
        Array(
            """
            POST /v1/libraries/\(Fixture.library)/changesets HTTP/1.1\r
            Host: 127.0.0.1\r
            Authorization: Bearer \(token)\r
            Content-Type: \(SyncAPI.mediaType)\r
            \(chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(length)")\r
            \r

            """.utf8)
    }

    @Test func `a client that disconnects mid-body is a 400 incomplete_body logged at info, not a 500 error`() async throws {
        let f = try await Fixture.make()
        let path = "/v1/libraries/\(Fixture.library)/changesets"
        let replica = ReplicaID.random()
        let bytes = try frame(replica, 1...200)
        let sink = try await serve(f) { port, sink in
            let partial = Self.pushHead(token: f.writer.token, length: bytes.count) + bytes.prefix(bytes.count / 2)
            try await offPool { try HTTP.sendAndClose(port: port, partial) }
            let line = try #require(try await requestLine(sink, path: path), "the request was never logged")
            #expect(line.level == .info)
            #expect(line.metadata["status"] == "400")
            #expect(line.metadata["error"] == "incomplete_body")
        }
        #expect(!sink.all.contains { $0.level >= .warning }, "\(sink.lines.filter { !$0.hasPrefix("trace") && !$0.hasPrefix("debug") })")
        #expect(!sink.lines.contains { $0.contains("internal") })
        #expect(try await f.state(replica) == (0, 0))
    }

    @Test func `a push whose chunked body is malformed is a JSON 400 incomplete_body`() async throws {
        let f = try await Fixture.make()
        let replica = ReplicaID.random()
        let bytes = try frame(replica, 1...5)
        _ = try await serve(f) { port, _ in
            let chunk = Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
            let request = Self.pushHead(token: f.writer.token, length: 0, chunked: true) + chunk + Array("zz\r\n".utf8)
            let reply = try await offPool { try HTTP.raw(port: port, request) }
            #expect(reply.status == 400)
            #expect(reply.headers["content-type"] == "application/json")
            #expect(try reply.object()["error"] as? String == "incomplete_body")
        }
        #expect(try await f.state(replica) == (0, 0))
    }

    /// Hummingbird answers a request NIO cannot parse itself, with an empty 400, before any
    /// route or middleware; `ParseErrorResponder` makes it our JSON error.
    @Test(arguments: [
        "GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",  // a header line without a colon
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "a", count: 90_000))\r\n\r\n",
        "\u{1}\u{2}\u{3} nonsense\r\n\r\n",
    ])
    func `a request NIO cannot parse gets a JSON 400 bad_request and a closed connection`(request: String) async throws {
        let f = try await Fixture.make()
        let sink = try await serve(f) { port, _ in
            let reply = try await offPool { try HTTP.raw(port: port, Array(request.utf8)) }
            #expect(reply.status == 400)
            #expect(reply.headers["content-type"] == "application/json")
            #expect(reply.headers["connection"] == "close")
            #expect(reply.headers["x-request-id"]?.isEmpty == false)
            let body = try reply.object()
            #expect(body["error"] as? String == "bad_request" && (body["reason"] as? String)?.isEmpty == false)
            // The server is unaffected.
            #expect(try await offPool { try HTTP.request(port: port, "GET", "/healthz") }.status == 200)
        }
        #expect(sink.all.contains { $0.level == .info && $0.metadata["error"] == "bad_request" && $0.metadata["status"] == "400" })
        #expect(!sink.all.contains { $0.level >= .warning })
    }
}
