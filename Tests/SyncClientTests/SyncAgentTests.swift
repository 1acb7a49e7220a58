import Foundation
import Logging
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

@testable import SyncClientKit

func quietLogger() -> Logger {
    var logger = Logger(label: "test.agent") { _ in SwiftLogNoOpLogHandler() }
    logger.logLevel = .critical
    return logger
}

func fastSettings() -> AgentSettings {
    var s = AgentSettings()
    s.debounce = 0.1
    s.interval = 0.3
    s.minBackoff = 0.1
    s.maxBackoff = 0.4
    s.tick = 0.02
    return s
}

/// Polls until `condition` holds or `seconds` pass; returns whether it held.
func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return try await condition()
}

@Suite struct SyncAgentTests {
    @Test func `local edits reach another laptop without any manual command`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            let a = try laptop("A", token: tokenA, transport: transport), b = try laptop("B", token: tokenB, transport: transport)
            let agentA = SyncAgent(store: a.store, settings: fastSettings(), logger: quietLogger()) { a }
            let agentB = SyncAgent(store: b.store, settings: fastSettings(), logger: quietLogger()) { b }
            let runA = Task { await agentA.run() }, runB = Task { await agentB.run() }
            let id = try a.store.addArticle(ArticleDraft(title: "عاجل", body: "نص"), tags: ["غزة"]).id
            let arrived = await eventually(120) { (try? b.store.article(id).tags) == ["غزة"] }
            agentA.requestStop(); agentB.requestStop()
            await runA.value; await runB.value
            #expect(arrived)
            #expect(try a.store.canonicalDump() == b.store.canonicalDump())
        }
    }

    @Test func `no request is sent before the server's Retry-After`() async throws {
        try await withLaptop(attempts: 1) { (a, transport, _) async throws in
            transport.script([errorResponse(429, "rate_limited", retryAfter: "1")])
            let agent = SyncAgent(store: a.store, settings: fastSettings(), logger: quietLogger()) { a }
            let run = Task { await agent.run() }
            let synced = try await eventually(120) { try a.store.syncState().acked > 0 }
            agent.requestStop(); await run.value
            #expect(synced)
            let times = transport.requestLog.map(\.at)
            try #require(times.count >= 2)
            #expect(times[1].timeIntervalSince(times[0]) >= 1.0)
        }
    }

    @Test func `while the server is unreachable the agent backs off, then syncs when it answers`() async throws {
        try await withLaptop(attempts: 1) { (a, transport, _) async throws in
            transport.script(Array(repeating: nil, count: 6))
            let logs = CapturedLogs()
            let logger = Logger(label: "test.agent") { _ in CapturingLogHandler(sink: logs) }
            let agent = SyncAgent(store: a.store, settings: fastSettings(), logger: logger) { a }
            let run = Task { await agent.run() }
            let synced = try await eventually(120) { try a.store.syncState().acked > 0 }
            agent.requestStop(); await run.value
            #expect(synced)
            #expect(transport.requestLog.count >= 7)
            // The waits the agent chose grow (exponential backoff with jitter, capped): compared on
            // what it decided, not on wall-clock gaps, which a loaded machine stretches.
            let chosen = logs.all.filter { $0.message.hasPrefix("server unreachable") }.compactMap { $0.metadata["wait_s"].flatMap(Double.init) }
            try #require(chosen.count >= 5)
            #expect(chosen[3] > chosen[0])
            #expect(chosen.allSatisfy { $0 <= fastSettings().maxBackoff })
            #expect(try a.store.syncState().lastError == nil)
        }
    }

    @Test func `a stop during a pull finishes the page in progress and leaves no half page`() async throws {
        let server = try await LiveServer()
        let (tokenA, tokenB) = (try await server.enroll("A"), try await server.enroll("B"))
        try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            let a = try laptop("A", token: tokenA, transport: transport), b = try laptop("B", token: tokenB, transport: transport)
            for i in 0..<12 { try a.store.addArticle(ArticleDraft(title: "T\(i)", body: "b\(i)"), tags: ["t"]) }
            _ = try await a.push()  // 24 ops, frames of 3 → 8 frames, pages of 2 frames
            transport.latency = 0.2
            let agent = SyncAgent(store: b.store, settings: fastSettings(), logger: quietLogger()) { b }
            let run = Task { await agent.run() }
            _ = await eventually(120) { (try? b.store.syncState().cursor) == 2 }
            agent.requestStop()
            await run.value
            let cursor = Int(try b.store.syncState().cursor)
            #expect(cursor < 8, "the agent should have stopped before the end of the pull")
            #expect(cursor % 2 == 0)
            // exactly the ops of the applied pages, nothing of a half page
            #expect(try b.store.counts()["ops"] == cursor * 3)
            #expect(try b.store.integrityCheck() == "ok")
            transport.latency = 0
            _ = try await b.sync()
            #expect(try b.store.canonicalDump() == a.store.canonicalDump())
        }
    }

    @Test func `a manual sync waits for the agent's lock or refuses clearly`() async throws {
        let store = try temporaryStore()
        let held = try await SyncLock.acquire(for: store, wait: 0)
        held.describe("the sync agent (pid 4242)")
        do {
            _ = try await SyncLock.acquire(for: store, wait: 0)
            Issue.record("a second sync lock was granted while the first was held")
        } catch let e as SyncClientError {
            #expect(e.code == .retryLater)
            #expect(e.reason.contains("the sync agent (pid 4242)"))
        }
        let waiter = Task { try await SyncLock.acquire(for: store, wait: 5) }
        try await Task.sleep(nanoseconds: 300_000_000)
        held.release()
        let second = try await waiter.value
        second.release()
    }
}
