import Foundation
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue "sync on reconnect", done-when: `synccli agent` on two laptops against the real
/// `syncserver`; the server goes away, A works offline, the server comes back on the same port,
/// and A's work reaches B with nobody typing a command. SIGTERM stops an agent cleanly, and a
/// manual sync never runs at the same time as the agent's.
@Suite("synccli agent against the real server")
struct AgentE2ETests {
    static let agentArgs = ["--interval", "1", "--debounce", "0.2", "--min-backoff", "0.2", "--max-backoff", "1"]
    /// How long edits may take to travel A → server → B once the server is back (generous:
    /// the machine is shared; with these settings it normally takes 1–3 s).
    static let reconnectBound: TimeInterval = 20

    static func titles(_ l: Laptop) throws -> Set<String> {
        Set(try l.array("list", "--json").compactMap { $0["title"] as? String })
    }

    @Test func `edits made while the server is down reach the other laptop by themselves once it is back`() throws {
        let dir = try Scratch()
        let server = try ServerProcess(dir)
        defer { server.kill() }
        let (a, _) = try server.laptop(dir, "A")
        let (b, _) = try server.laptop(dir, "B")
        try server.start()
        let id = try #require(try a.object("add", CLI.seedArticle, "--json")["id"] as? String)

        let agentA = try a.startAgent(Self.agentArgs)
        let agentB = try b.startAgent(Self.agentArgs)
        defer { agentA.forceKill(); agentB.forceKill() }
        #expect(
            try eventually(timeout: Self.reconnectBound) { try Self.titles(b).contains(CLITests.seed.title) },
            "the agents sync while the server is up:\n\(agentA.output())\n\(agentB.output())")
        #expect(try a.status()["agentPID"] as? Int == Int(agentA.pid), "status names the running agent")

        // The server goes away; A keeps working.
        #expect(server.stop() == .exited(0))
        try a.run("edit", id, "--title", "عنوان كُتب دون اتصال").expect(0)
        try a.run("tag", "add", id, "offline").expect(0)
        try a.run("add", "-", stdin: Data("خبر كُتب دون اتصال\nمقدمة\nنص.".utf8)).expect(0)
        #expect(
            agentA.waitForOutput(timeout: Self.reconnectBound) { $0.contains("server unreachable") },
            "A's agent notices the server is gone:\n\(agentA.output())")
        #expect(try a.status()["pending"] as? Int ?? 0 > 0)

        // Back on the same port: no command is typed on either laptop from here on.
        try server.start()
        let started = Date()
        let arrived = try eventually(timeout: Self.reconnectBound) {
            try Self.titles(b) == ["عنوان كُتب دون اتصال", "خبر كُتب دون اتصال"]
        }
        #expect(
            arrived, "A's offline edits reach B within \(Int(Self.reconnectBound)) s of the server's return:\n\(agentA.output())\n\(agentB.output())")
        print("AgentE2E: offline edits reached B \(String(format: "%.1f", Date().timeIntervalSince(started))) s after the server came back")
        #expect(try b.object("show", id, "--json")["tags"] as? [String] == ["offline"])

        // SIGTERM: both agents exit 0, promptly.
        agentA.signal(SIGTERM)
        agentB.signal(SIGTERM)
        #expect(agentA.waitForExit(timeout: 15) == .exited(0), "\(agentA.output())")
        #expect(agentB.waitForExit(timeout: 15) == .exited(0), "\(agentB.output())")
        for l in [a, b] {
            let status = try l.status()
            #expect(status["pending"] as? Int == 0, "\(l.store): all work is on the server")
            #expect(status["agentPID"] == nil, "\(l.store): no agent runs any more: \(status)")
            #expect(try l.ok("status").contains("agent    not running"))
        }
        #expect(try a.export() == b.export())
    }

    @Test func `a manual sync while the agent syncs waits for it, or refuses clearly with --wait 0 (75)`() throws {
        let dir = try Scratch()
        let server = try ServerProcess(dir)
        defer { server.kill() }
        let (a, _) = try server.laptop(dir, "A")
        try server.start()
        // The agent's pushes pause 4 s after building their frame, holding the sync lock. With
        // --interval 60 it syncs only at start and after local changes, so a held lock below
        // is the push of our change, not a quick periodic sync.
        let agent = try a.startAgent(
            ["--interval", "60", "--debounce", "0.2", "--min-backoff", "0.2", "--max-backoff", "1"],
            env: ["ARTICLESYNC_FAILPOINTS": "client.push.after-build=sleep:4000"])
        defer { agent.forceKill() }
        let lockFile = a.store + ".sync.lock"
        func agentHoldsLock() -> Bool {
            ((try? String(contentsOfFile: lockFile, encoding: .utf8)) ?? "").contains("agent")
        }
        func syncs() -> Int { agent.output().components(separatedBy: " synced").count - 1 }
        #expect(agent.waitForOutput(timeout: 20) { $0.contains(" synced") }, "the agent's first sync:\n\(agent.output())")

        try a.run("add", CLI.seedArticle).expect(0)
        #expect(eventually(timeout: 20, agentHoldsLock), "the agent starts pushing:\n\(agent.output())")
        let refused = try a.run("sync", "--wait", "0")
        #expect(refused.status == 75, "\(refused)")
        #expect(
            refused.stderr.contains("the sync agent (pid \(agent.pid))") && refused.stderr.contains("--wait"),
            "the refusal names the agent: \(refused)")

        #expect(eventually(timeout: 20) { syncs() == 2 }, "\(agent.output())")
        try a.run("add", "-", stdin: Data("خبر ثان\nمقدمة\nنص.".utf8)).expect(0)
        #expect(eventually(timeout: 20, agentHoldsLock), "the agent pushes the second article:\n\(agent.output())")
        let waited = try a.run("sync", "--wait", "60").expect(0)
        #expect(waited.stderr.contains("the sync agent (pid \(agent.pid)) is running on this store; waiting"), "\(waited)")
        // The manual sync ran only after the agent's had finished: by then the agent had
        // pushed everything, so the manual one had nothing left to push.
        #expect(try a.object("status", "--json")["pending"] as? Int == 0)
        #expect(waited.stdout.contains("pushed 0"), "\(waited)")

        agent.signal(SIGTERM)
        #expect(agent.waitForExit(timeout: 15) == .exited(0), "\(agent.output())")
        #expect(try a.status()["agentPID"] == nil)
        let info = try server.info(token: try server.enroll("checker").token)
        #expect(info.ops == (try a.status()["ownOps"] as? Int), "\(info)")
    }
}
