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

    @Test func `a sync with nothing new on either side is one request, and a pull never brings back our own ops`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            let a = try laptop("A", token: tokenA, transport: transport), b = try laptop("B", token: tokenB, transport: transport)
            for i in 1...4 { try a.store.addArticle(ArticleDraft(url: "https://e.com/\(i)", title: "A\(i)", body: "غزة")) }
            let ownOps = try a.store.ownOpCount()
            let pushed = try await a.push()
            #expect(pushed.changesets > 1)
            // All of the library is A's own: A's pull receives nothing, yet its cursor reaches the head.
            let own = try await a.pull()
            #expect(own.opsReceived == 0 && own.bytesReceived == 0 && own.cursor == Int64(pushed.changesets))
            // B's frames come through, A's own in between are left out.
            try b.store.addArticle(ArticleDraft(url: "https://e.com/b", title: "B", body: "رام الله"))
            _ = try await b.sync()
            try a.store.addTags(["x"], to: try a.store.listArticles()[0].id)
            _ = try await a.push()
            let mixed = try await a.pull()
            #expect(mixed.opsReceived == Int(try b.store.ownOpCount()))
            _ = try await b.sync()
            #expect(try a.store.canonicalDump() == b.store.canonicalDump())
            #expect(ownOps > 0)

            let before = transport.requestLog.count
            let quiet = try await a.sync()
            #expect(quiet.push.opsSent == 0 && quiet.pull.opsReceived == 0)
            #expect(transport.requestLog.count == before + 1)
            // With something to push, the second pull runs (and gets nothing of ours back).
            try a.store.addTags(["y"], to: try a.store.listArticles()[0].id)
            let busy = try await a.sync()
            #expect(busy.push.opsSent == 1 && busy.pullAgain.opsReceived == 0)
            #expect(transport.requestLog.count == before + 1 + 3)
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

    @Test func `a sync in flight when the remote changes leaves the new remote's state alone`() async throws {
        try await withLaptop { (a, transport, sleeps) async throws in
            // `remote set` to another library while this client still talks to the old one.
            try a.store.setRemote(Remote(url: "http://127.0.0.1:9", library: "other-desk"), token: "ast_other")
            await #expect { try await a.push() } throws: { ($0 as? SyncClientError)?.code == .config }
            await #expect { try await a.pull() } throws: { ($0 as? SyncClientError)?.code == .config }
            let state = try a.store.syncState()
            #expect(state.remote?.library == "other-desk")
            #expect(state.acked == 0 && state.cursor == 0 && state.epoch == nil)
        }
    }

    @Test func `a server claiming more of our ops than we wrote is a protocol error, not a new ack`() async throws {
        try await withLaptop { (a, transport, sleeps) async throws in
            _ = try await a.push()
            let before = try a.store.syncState()
            try a.store.addArticle(ArticleDraft(title: "T2", body: "b2"))
            let library = #"{"epoch":"restored","head":1,"replicas":{"\#(a.store.replica)":999}}"#
            transport.script([
                SyncResponse(status: 200, headers: ["ArticleSync-Epoch": "restored"], body: Array("{}".utf8)),
                SyncResponse(status: 200, headers: ["ArticleSync-Epoch": "restored"], body: Array(library.utf8)),
            ])
            await #expect { try await a.push() } throws: { ($0 as? SyncClientError)?.code == .protocolError }
            let after = try a.store.syncState()
            #expect(after.acked == before.acked && after.epoch == before.epoch && after.cursor == before.cursor)
        }
    }

    @Test func `plain http to a remote host is refused unless insecure`() throws {
        #expect(throws: SyncClientError.self) { try Remote.validate(url: "http://sync.example.org", insecure: false) }
        try Remote.validate(url: "http://sync.example.org", insecure: true)
        try Remote.validate(url: "http://127.0.0.1:8080", insecure: false)
        try Remote.validate(url: "https://sync.example.org", insecure: false)
    }

    /// A frame holds at most `maxFrameBytes` of op bodies, however many ops it may hold: a push
    /// of captured articles stays inside the server's body limit. An op larger than that goes alone.
    @Test func `a push cuts frames by bytes as well as by ops`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            var a = try laptop("A", token: tokenA, transport: transport, opsPerChangeset: 100)
            a.maxFrameBytes = 2_500
            let paragraph = String(repeating: "قوات الاحتلال انسحبت من شارع الرشيد غربي القطاع. ", count: 10)
            for i in 1...5 { try a.store.addArticle(ArticleDraft(url: "https://e.com/\(i)", title: "A\(i)", body: paragraph)) }
            try a.store.addArticle(ArticleDraft(url: "https://e.com/big", title: "big", body: String(repeating: paragraph, count: 4)))
            let pushed = try await a.push()
            #expect(pushed.opsSent == 6 && pushed.changesets == 4, "\(pushed)")
            #expect(pushed.acked == (try a.store.ownOpCount()))
            let b = try laptop("B", token: tokenB, transport: transport)
            _ = try await b.sync()
            #expect(try a.store.canonicalDump() == b.store.canonicalDump())
        }
    }

    /// A server of the previous release reads formats 1 and 2 and answers a format-3 push with
    /// 422 unsupported_version: the client sends the same ops again in format 2, and they land
    /// once, readable by everyone.
    @Test func `a push to a server that reads no format 3 goes again in format 2`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        try await server.serve { port in
            let old = PreviousReleaseServer(ScriptedTransport(port: port))
            let a = try laptop("A", token: tokenA, transport: old), b = try laptop("B", token: tokenB, transport: old)
            for i in 1...7 { try a.store.addArticle(ArticleDraft(url: "https://e.com/\(i)", title: "A\(i)", body: "غزة \(i)")) }
            let pushed = try await a.push()
            #expect(pushed.opsSent == Int(try a.store.ownOpCount()) && pushed.changesets > 1, "\(pushed)")
            // One refused format-3 frame, then format 2 for the rest of the push.
            #expect(old.formats.first == 3 && old.formats.dropFirst().allSatisfy { $0 == 2 } && old.formats.count == pushed.changesets + 1)
            _ = try await b.sync()
            #expect(try a.store.canonicalDump() == b.store.canonicalDump())
        }
    }
}

/// What a server of the previous release does with a push: refuses format 3 as a version it does
/// not read, passes anything else to the real server. Records the format of every push.
final class PreviousReleaseServer: SyncTransport, @unchecked Sendable {
    let inner: any SyncTransport
    private let lock = NSLock()
    private var pushed: [UInt8] = []

    init(_ inner: any SyncTransport) { self.inner = inner }

    var formats: [UInt8] { lock.withLock { pushed } }

    func send(_ request: SyncRequest) async throws -> SyncResponse {
        guard request.method == "POST", let body = request.body, body.count > 4 else { return try await inner.send(request) }
        let format = body[4]
        lock.withLock { pushed.append(format) }
        if format == 3 { return errorResponse(422, "unsupported_version") }
        return try await inner.send(request)
    }
}
