import Foundation
import SyncModel
import SyncStore
import TestHarness
import Testing

@testable import SyncClientKit

/// Issue 17, finding 7: after a laptop whose clock is 9.5 minutes fast pushed (the server accepts
/// up to 10 minutes ahead of its own clock), a laptop 2 minutes slow refused every pull (the ops
/// were 11.5 minutes ahead of its clock, past its 10-minute bound), exited 65 on every sync and
/// never pushed its own work.
@Suite struct ClockBehindTests {
    static func shifted(_ ms: Int64) -> @Sendable () -> UInt64 {
        { UInt64(Int64(Store.systemClock()) + ms) }
    }

    @Test func `a laptop whose clock is behind still pulls, pushes its own work, and is told its clock is behind`() async throws {
        let server = try await LiveServer()
        let (tokenFast, tokenSlow) = (try await server.enroll("fast"), try await server.enroll("slow"))
        try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            func laptop(_ name: String, token: String, clockOffset: Int64) throws -> SyncClient {
                let store = try temporaryStore(name: name, now: Self.shifted(clockOffset))
                try store.setRemote(Remote(url: "http://127.0.0.1:9", library: LiveServer.library), token: token)
                return try client(for: store, transport: transport)
            }
            let fast = try laptop("fast", token: tokenFast, clockOffset: 570_000)  // 9.5 min ahead
            let slow = try laptop("slow", token: tokenSlow, clockOffset: -120_000)  // 2 min behind
            try fast.store.addArticle(ArticleDraft(url: "https://e.com/fast", title: "من الميدان", body: "غزة"))
            _ = try await fast.sync()

            let own = try slow.store.addArticle(ArticleDraft(url: "https://e.com/slow", title: "عاجل", body: "رام الله")).id
            let report = try await slow.sync()
            #expect(report.pull.opsApplied > 0)
            #expect(report.pull.clockBehindMillis > 600_000, "the pull says how far behind this laptop's clock is")
            #expect(report.push.opsSent > 0, "the slow laptop's own work was pushed")
            // Its clock follows what it received: its next op is stamped after the fast laptop's.
            #expect(try slow.store.clock() > fast.store.clock())
            _ = try await fast.sync()
            #expect(try fast.store.article(own).title == "عاجل")
            #expect(try fast.store.canonicalDump() == slow.store.canonicalDump())
            // A later sync with nothing new warns of nothing.
            let quiet = try await slow.sync()
            #expect(quiet.pull.clockBehindMillis == 0)
        }
    }
}
