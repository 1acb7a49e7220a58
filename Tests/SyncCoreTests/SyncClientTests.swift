import Foundation
import Testing
@testable import SyncCore

/// An in-memory server that follows the contract in Protocol.md closely enough to exercise the
/// client's state machine: exactly-once pushes, paged pulls, epochs, scripted failures.
actor FakeServer: SyncTransport {
    var frames: [[UInt8]] = []
    var acked: [String: UInt64] = [:]
    var epoch = "e1"
    /// Responses to return instead of handling the next requests (nil = a network failure).
    var scripted: [SyncResponse?] = []
    var requests: [String] = []
    var requestTimes: [Date] = []
    var pageLimit = 2
    /// Seconds each request takes, to let a test stop a client half way through a pull.
    var latency: Double = 0

    func setLatency(_ s: Double) { latency = s }

    func script(_ responses: [SyncResponse?]) { scripted = responses }

    /// Forgets everything after `keep` frames and takes a new epoch, like a restore from backup.
    func restore(keepingFrames keep: Int) {
        frames = Array(frames.prefix(keep))
        acked = [:]
        for frame in frames {
            let cs = try! Changeset.decode(frame)
            acked[cs.replica.description] = max(acked[cs.replica.description] ?? 0, cs.lastCounter)
        }
        epoch = "e\(Int.random(in: 2...1_000_000))"
    }

    struct NetworkDown: Error {}

    func send(_ request: SyncRequest) async throws -> SyncResponse {
        requests.append("\(request.method) \(request.path)")
        requestTimes.append(Date())
        if latency > 0 { try? await Task.sleep(nanoseconds: UInt64(latency * 1e9)) }
        if !scripted.isEmpty {
            guard let response = scripted.removeFirst() else { throw NetworkDown() }
            return response
        }
        let headers = ["ArticleSync-Epoch": epoch, "ArticleSync-Head": String(frames.count)]
        if request.method == "POST" {
            let cs = try Changeset.decode(request.body!)
            let have = acked[cs.replica.description] ?? 0
            if cs.firstCounter > have + 1 {
                return SyncResponse(status: 409, headers: headers, body: Array(#"{"error":"gap","reason":"gap","acked":\#(have)}"#.utf8))
            }
            if cs.lastCounter > have {
                frames.append(try Changeset.encode(cs.ops.filter { $0.id.counter > have }))
                acked[cs.replica.description] = cs.lastCounter
            }
            let body = #"{"replica":"\#(cs.replica)","acked":\#(acked[cs.replica.description]!),"seq":\#(frames.count),"epoch":"\#(epoch)"}"#
            return SyncResponse(status: 200, headers: headers, body: Array(body.utf8))
        }
        if request.path.contains("/changes") {
            let since = Int(request.path.components(separatedBy: "since=")[1].components(separatedBy: "&")[0])!
            if since > frames.count {
                return SyncResponse(status: 409, headers: headers, body: Array(#"{"error":"cursor_ahead","reason":"x"}"#.utf8))
            }
            let page = frames.dropFirst(since).prefix(pageLimit)
            var h = headers
            h["ArticleSync-Next"] = String(since + page.count)
            h["ArticleSync-More"] = since + page.count < frames.count ? "true" : "false"
            return SyncResponse(status: page.isEmpty ? 204 : 200, headers: h, body: page.flatMap { $0 })
        }
        let replicas = acked.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        let info = #"{"library":"l","epoch":"\#(epoch)","head":\#(frames.count),"changesets":\#(frames.count),"ops":0,"replicas":{\#(replicas)}}"#
        return SyncResponse(status: 200, headers: headers, body: Array(info.utf8))
    }
}

/// Records the waits the client asks for instead of sleeping.
actor Sleeps {
    var waits: [Double] = []
    func add(_ s: Double) { waits.append(s) }
}

func connectedStore(_ name: String, _ server: FakeServer, sleeps: Sleeps? = nil) throws -> SyncClient {
    let store = try temporaryStore(name: name)
    try store.setRemote(Remote(url: "http://127.0.0.1:9", library: "desk"), token: "ast_test")
    let retry = RetryPolicy(maxAttempts: 3, baseDelay: 0.01, sleep: { s in await sleeps?.add(s) })
    return try SyncClient(store: store, transport: server, retry: retry, opsPerChangeset: 3)
}

@Suite struct SyncClientTests {
    @Test func `two laptops converge through the server and a second sync sends nothing`() async throws {
        let server = FakeServer()
        let a = try connectedStore("A", server), b = try connectedStore("B", server)
        let id = try a.store.addArticle(ArticleDraft(url: "https://e.com/1", title: "T", body: "غزة"), tags: ["x", "y"]).id
        try a.store.editArticle(id, [(.title, "T2")])
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
        #expect(bytes.range(of: Data("ast_test".utf8)) == nil)
    }

    @Test func `a 429 is retried no earlier than Retry-After says`() async throws {
        let server = FakeServer(), sleeps = Sleeps()
        let a = try connectedStore("A", server, sleeps: sleeps)
        try a.store.addArticle(ArticleDraft(title: "T", body: "b"))
        await server.script([SyncResponse(status: 429, headers: ["Retry-After": "7"], body: Array(#"{"error":"rate_limited","reason":"slow down"}"#.utf8))])
        let report = try await a.push()
        #expect(report.opsSent == 1)
        #expect(await sleeps.waits == [7])
        #expect(await server.requests.count == 2)
    }

    @Test func `network failures are retried with backoff, then reported as unavailable`() async throws {
        let server = FakeServer(), sleeps = Sleeps()
        let a = try connectedStore("A", server, sleeps: sleeps)
        try a.store.addArticle(ArticleDraft(title: "T", body: "b"))
        await server.script([nil, nil, nil])
        await #expect(throws: SyncError.self) { try await a.push() }
        #expect(await sleeps.waits.count == 2)
        #expect(try a.store.meta("sync.acked") == nil)
        await server.script([nil])
        #expect(try await a.push().opsSent == 1)
    }

    @Test func `an interrupted pull resumes after the last page it applied`() async throws {
        let server = FakeServer()
        let a = try connectedStore("A", server), b = try connectedStore("B", server)
        for i in 0..<5 { try a.store.addArticle(ArticleDraft(title: "T\(i)", body: "b\(i)"), tags: ["t"]) }
        _ = try await a.push() // 10 ops in frames of 3 → 4 frames; pages of 2 frames
        // first page arrives, then the network dies for good
        let ok = try await server.send(SyncRequest(method: "GET", path: "/v1/libraries/desk/changes?since=0&limit=2"))
        await server.script([ok, nil, nil, nil])
        await #expect(throws: SyncError.self) { try await b.pull() }
        #expect(try b.store.meta("sync.cursor") == "2")
        #expect(try b.store.counts()["ops"] == 6)
        let resumed = try await b.pull()
        #expect(resumed.opsReceived == 4)
        #expect(try a.store.canonicalDump() == b.store.canonicalDump())
    }

    @Test func `a server restored from an older backup gets back what it lost`() async throws {
        let server = FakeServer()
        let a = try connectedStore("A", server), b = try connectedStore("B", server)
        try a.store.addArticle(ArticleDraft(title: "first", body: "x"))
        _ = try await a.sync()
        try a.store.addArticle(ArticleDraft(title: "second", body: "y"))
        try a.store.addArticle(ArticleDraft(title: "third", body: "z"))
        _ = try await a.sync()
        await server.restore(keepingFrames: 1)
        let report = try await a.sync()
        #expect(report.pull.epochChanged || report.push.epochChanged)
        _ = try await b.sync()
        #expect(try b.store.listArticles().count == 3)
        #expect(try a.store.canonicalDump() == b.store.canonicalDump())
    }

    @Test func `plain http to a remote host is refused unless insecure`() throws {
        #expect(throws: SyncError.self) { try Remote.validate(url: "http://sync.example.org", insecure: false) }
        try Remote.validate(url: "http://sync.example.org", insecure: true)
        try Remote.validate(url: "http://127.0.0.1:8080", insecure: false)
        try Remote.validate(url: "https://sync.example.org", insecure: false)
    }
}
