import Foundation
import SyncModel
import SyncStore
import TestHarness
import Testing

@testable import SyncClientKit

/// The client's state machine against the real server, in process, over HTTP: exactly-once
/// pushes, paged pulls, retries, epochs.
@Suite struct SyncClientTests {
    @Test func `two laptops converge through the server and a second sync sends nothing`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            let a = try laptop("A", token: tokenA, transport: transport), b = try laptop("B", token: tokenB, transport: transport)
            let id = try a.store.addArticle(ArticleDraft(url: "https://e.com/1", title: "T", body: "غزة"), tags: ["x", "y"]).id
            try a.store.editArticle(id, [(ArticleFields.title, "T2")])
            _ = try await a.sync()
            _ = try await b.sync()
            try b.store.addTags(["z"], to: id)
            _ = try await b.sync()
            _ = try await a.sync()
            #expect(try a.store.canonicalDump() == b.store.canonicalDump())
            #expect(try a.store.article(id).tags == ["x", "y", "z"])
            let again = try await a.sync()
            #expect(again.push.opsSent == 0 && again.pull.opsReceived == 0 && again.pullAgain.opsReceived == 0)
            // the token never lands in the store file
            let bytes = try Data(contentsOf: URL(fileURLWithPath: a.store.path))
            #expect(bytes.range(of: Data(tokenA.utf8)) == nil)
        }
    }

    @Test func `a 429 is retried no earlier than Retry-After says`() async throws {
        try await withLaptop { (a, transport, sleeps) async throws in
            transport.script([errorResponse(429, "rate_limited", retryAfter: "7")])
            let report = try await a.push()
            #expect(report.opsSent == 1)
            #expect(await sleeps.waits == [7])
            #expect(transport.requestLog.count == 2)
        }
    }

    @Test func `network failures are retried with backoff, then reported as unavailable`() async throws {
        try await withLaptop { (a, transport, sleeps) async throws in
            transport.script([nil, nil, nil])
            await #expect { try await a.push() } throws: { ($0 as? SyncClientError)?.code == .unavailable }
            #expect(await sleeps.waits.count == 2)
            #expect(try a.store.syncState().acked == 0)
            transport.script([nil])
            #expect(try await a.push().opsSent == 1)
            #expect(try a.store.syncState().acked == 1)
        }
    }

    @Test func `an interrupted pull resumes after the last page it applied`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            let a = try laptop("A", token: tokenA, transport: transport), b = try laptop("B", token: tokenB, transport: transport)
            for i in 0..<5 { try a.store.addArticle(ArticleDraft(title: "T\(i)", body: "b\(i)"), tags: ["t"]) }
            _ = try await a.push()  // 10 ops in frames of 3 → 4 frames; pages of 2 frames
            // the first page arrives, then the network dies for good
            transport.script([nil, nil, nil], after: 1)
            await #expect(throws: SyncClientError.self) { try await b.pull() }
            #expect(try b.store.syncState().cursor == 2)
            #expect(try b.store.counts()["ops"] == 6)
            let resumed = try await b.pull()
            #expect(resumed.opsReceived == 4)
            #expect(try a.store.canonicalDump() == b.store.canonicalDump())
        }
    }

    @Test func `a server restored from an older backup gets back what it lost`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        let a = try await server.serve { port in
            let a = try laptop("A", token: tokenA, transport: ScriptedTransport(port: port))
            try a.store.addArticle(ArticleDraft(title: "first", body: "x"))
            _ = try await a.sync()
            return a.store
        }
        let backup = try server.backup()
        try await server.serve { port in
            let a = try client(for: a, transport: ScriptedTransport(port: port))
            try a.store.addArticle(ArticleDraft(title: "second", body: "y"))
            try a.store.addArticle(ArticleDraft(title: "third", body: "z"))
            _ = try await a.sync()
        }
        let restored = try await LiveServer.restored(from: backup)
        try await restored.serve { port in
            let a = try client(for: a, transport: ScriptedTransport(port: port))
            let report = try await a.sync()
            #expect(report.pull.epochChanged || report.push.epochChanged)
            let b = try laptop("B", token: tokenB, transport: ScriptedTransport(port: port))
            _ = try await b.sync()
            #expect(try b.store.listArticles().count == 3)
            #expect(try a.store.canonicalDump() == b.store.canonicalDump())
        }
    }

    @Test func `plain http to a remote host is refused unless insecure`() throws {
        #expect(throws: SyncClientError.self) { try Remote.validate(url: "http://sync.example.org", insecure: false) }
        try Remote.validate(url: "http://sync.example.org", insecure: true)
        try Remote.validate(url: "http://127.0.0.1:8080", insecure: false)
        try Remote.validate(url: "https://sync.example.org", insecure: false)
    }
}
