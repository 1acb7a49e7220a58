import Foundation
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What only a server can get wrong, played with real processes (the merge stories themselves
/// run over both transports in MergeStoryTests): a revoked or read-only device is refused with
/// exit 77 and changes nothing; a server killed between a push's commit and its response, or
/// stopped with SIGTERM while several laptops push, loses nothing and duplicates nothing.
@Suite("Sync server end to end: real syncserver, real synccli")
struct ServerE2ETests {
    static func title(_ l: Laptop, _ id: String) throws -> String? { try l.object("show", id, "--json")["title"] as? String }

    // MARK: - Administration

    @Test func `every admin command prints one JSON document with --json, for provisioning scripts`() throws {
        let dir = try Scratch()
        let server = try ServerProcess(dir)
        func json(_ args: String...) throws -> Any {
            let r = try server.admin(args + ["--data", server.data, "--json"])
            #expect(r.status == 0, "\(r)")
            return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        }
        let created = try #require(try json("library", "create", "desk") as? [String: Any])
        #expect(created["library"] as? String == "desk" && (created["storage"] as? String)?.contains("sqlite") == true)
        #expect(try json("library", "list") as? [String] == ["desk", "newsroom"])
        // The device, its token (shown this once) and the line to paste on the laptop.
        let enrolled = try #require(try json("device", "enroll", "--library", "desk", "--name", "Amal", "--read-only") as? [String: Any])
        let device = try #require(enrolled["device"] as? [String: Any])
        let (id, token) = (try #require(device["id"] as? String), try #require(enrolled["token"] as? String))
        #expect(device["library"] as? String == "desk" && device["readOnly"] as? Bool == true && token.hasPrefix("ast_"))
        #expect((enrolled["remoteSet"] as? String)?.hasSuffix("--library desk --token \(token)") == true)
        let listed = try #require(try json("device", "list") as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == [id] && listed.allSatisfy { $0["token"] == nil })
        #expect((try json("device", "revoke", id) as? [String: Any])?["revoked"] as? String == id)
        let shown = try #require((try json("epoch", "show") as? [String: Any])?["epoch"] as? String)
        let rotated = try #require(try json("epoch", "rotate") as? [String: Any])
        #expect(rotated["previous"] as? String == shown && (rotated["epoch"] as? String).map { $0 != shown && $0.count == 32 } == true)
        // Without --json, the text for people.
        let text = try server.admin("epoch", "show", "--data", server.data).stdout
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == rotated["epoch"] as? String)
    }

    // MARK: - Refusals

    @Test func `a device revoked while the server runs is refused at its next push (77) and the library is unchanged`() throws {
        let office = try Office(.server)
        let server = try #require(office.server)
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed()
        let before = try server.info(token: office.devices[1].token)

        let revoked = try server.admin("device", "revoke", office.devices[0].id, "--data", server.data)
        #expect(revoked.status == 0, "\(revoked)")
        try a.run("edit", id, "--title", "بعد الإلغاء").expect(0)
        let push = try a.run("push", "--attempts", "1")
        #expect(push.status == 77, "\(push)")
        #expect(push.stderr.contains("revoked") && push.stderr.contains("refused this device"), "a clear message: \(push)")
        let sync = try a.run("sync", "--attempts", "1")
        #expect(sync.status == 77, "\(sync)")
        #expect(try a.status()["pending"] as? Int == 1, "the edit stays on the laptop, waiting")

        #expect(try server.info(token: office.devices[1].token) == before, "nothing reached the library")
        try b.run("sync").expect(0)
        #expect(try Self.title(b, id) == CLITests.seed.title)
        #expect(server.output().contains("invalid_token"), "the refusal is logged with its code")
    }

    @Test func `a re-enrolled laptop pushes its replica only once enrolled with --replaces; a plain new token is 77 replica_revoked`() throws {
        let office = try Office(.server)
        let server = try #require(office.server)
        let a = office.a
        let id = try office.sharedSeed()
        let old = office.devices[0]
        try server.revoke(old)
        let plain = try server.enroll("A, new token")
        try a.run("remote", "set", server.url, "--library", server.library, "--token", plain.token).expect(0)
        try a.run("edit", id, "--title", "بعد التسجيل من جديد").expect(0)
        let refused = try a.run("push", "--attempts", "1")
        #expect(refused.status == 77 && refused.stderr.contains("replica_revoked"), "\(refused)")

        let again = try server.admin(
            "device", "enroll", "--library", server.library, "--name", "A again", "--replaces", old.id, "--data", server.data, "--json")
        #expect(again.status == 0, "\(again)")
        let enrolled = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        let token = try #require(enrolled["token"] as? String)
        #expect(enrolled["replaced"] as? String == old.id)
        try a.run("remote", "set", server.url, "--library", server.library, "--token", token).expect(0)
        try a.run("sync").expect(0)
        #expect(try a.status()["pending"] as? Int == 0)
        try office.b.run("sync").expect(0)
        #expect(try Self.title(office.b, id) == "بعد التسجيل من جديد")
    }

    @Test func `a read-only device may pull but its push is refused (77) and writes nothing`() throws {
        let office = try Office(.server)
        let server = try #require(office.server)
        let id = try office.sharedSeed()
        let (reader, _) = try server.laptop(office.dir, "R", readOnly: true)
        try reader.run("pull").expect(0)
        #expect(try Self.title(reader, id) == CLITests.seed.title, "a read-only device pulls")

        let before = try server.info(token: office.devices[0].token)
        try reader.run("tag", "add", id, "قراءة").expect(0)
        let push = try reader.run("push", "--attempts", "1")
        #expect(push.status == 77, "\(push)")
        #expect(push.stderr.contains("read-only") || push.stderr.contains("read_only"), "a clear message: \(push)")
        #expect(try reader.run("sync", "--attempts", "1").status == 77)
        #expect(try server.info(token: office.devices[0].token) == before, "nothing reached the library")
        try office.exchangeAll()
        #expect(try office.expectConverged().contains("قراءة") == false)
    }

    // MARK: - Crashes and shutdowns

    @Test func `server SIGKILLed between a push's commit and its response: the retry is acknowledged, nothing is duplicated`() throws {
        let office = try Office(.server)
        let server = try #require(office.server)
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed("--tag", "غزة")
        #expect(server.stop() == .exited(0))

        try server.start(failpoints: "server.push.after-commit=crash")
        try a.run("edit", id, "--title", "عنوان جديد").expect(0)
        try a.run("tag", "add", id, "عاجل").expect(0)
        try a.run("highlight", id, "--quote", "مخيم المغازي").expect(0)
        try a.run("add", "-", stdin: Data("خبر ثان\nمقدمة\nنص الخبر.".utf8)).expect(0)
        let own = try #require(try a.status()["ownOps"] as? Int)
        let push = try a.run("push", "--attempts", "2")
        #expect(push.status == 69, "the response never came, the server is gone: \(push)")
        #expect(push.stderr.contains("cannot reach the server"), "\(push)")
        #expect(server.child?.waitForExit(timeout: 30) == .signalled(SIGKILL), "the failpoint killed the server")
        #expect(try a.status()["pending"] as? Int ?? 0 > 0, "the laptop never saw the ack")

        try server.start()
        let committed = try server.info(token: office.devices[1].token)
        let replicaA = try #require(try a.status()["replica"] as? String)
        #expect(committed.replicas[replicaA] == own, "the push was committed before the kill: \(committed)")

        let retried = try a.object("push", "--json")
        #expect(retried["acked"] as? Int == own, "the retry is acknowledged: \(retried)")
        #expect(try a.status()["pending"] as? Int == 0)
        let after = try server.info(token: office.devices[1].token)
        #expect(after == committed, "the retry was a replay: nothing stored twice (\(committed) → \(after))")
        #expect(after.replicas[replicaA] == own)
        let frames = try server.pullAll(token: office.devices[1].token)
        let countersA = frames.filter { $0.replica.description == replicaA }.flatMap { $0.ops.map(\.id.counter) }
        #expect(countersA == Array(1...UInt64(own)), "each of A's ops exactly once on the server")

        try office.exchangeAll()
        try office.expectConverged()
        #expect(try Self.title(b, id) == "عنوان جديد")
    }

    /// JSON Lines of `count` distinct articles for `laptop`.
    static func articles(_ count: Int, laptop: String) -> String {
        (0..<count).map { i in
            let body = String(repeating: "نص المقال رقم \(i) من الحاسوب \(laptop). ", count: 20)
            let object: [String: Any] = [
                "url": "https://example.org/\(laptop)/\(i)", "title": "مقال \(i) (\(laptop))",
                "summary": "مقدمة", "body": body, "tags": ["wire", laptop], "source": "وكالة",
            ]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String: CLIResult] = [:]
        func set(_ key: String, _ r: CLIResult) { lock.withLock { items[key] = r } }
        var all: [String: CLIResult] { lock.withLock { items } }
    }

    @Test func `SIGTERM while three laptops push big changesets: clean exit, no half-applied push, everyone converges`() throws {
        let office = try Office(.server)
        let server = try #require(office.server)
        let perLaptop = 300
        for (l, name) in zip(office.all, ["A", "B", "C"]) {
            let file = try office.dir.write("\(name).jsonl", Self.articles(perLaptop, laptop: name))
            try l.run("import", file).expect(0)
        }
        server.stop()
        // Each push waits 1.5 s after verifying its frame, then 200 ms inside its write
        // transaction: SIGTERM goes out while all three are in flight (verified and waiting,
        // queued for the writer, or committing).
        try server.start(failpoints: "server.push.after-decode=sleep:1500,server.push.mid-apply=sleep:200")

        let results = Results(), group = DispatchGroup()
        for (l, name) in zip(office.all, ["A", "B", "C"]) {
            group.enter()
            Thread.detachNewThread {
                do { results.set(name, try l.run("push", "--attempts", "2")) } catch {}
                group.leave()
            }
        }
        var maxConnected = 0
        _ = eventually(timeout: 20) {
            maxConnected = max(maxConnected, server.establishedConnections())
            return maxConnected >= 3
        }
        let storedBeforeStop = server.output().components(separatedBy: "push stored").count - 1
        let stopped = server.stop(signal: SIGTERM, timeout: 60)
        #expect(stopped == .exited(0), "the server exits cleanly within its grace period:\n\(server.output())")
        #expect(group.wait(timeout: .now() + 120) == .success)
        let storedAtExit = server.output().components(separatedBy: "push stored").count - 1
        print(
            "SIGTERM test: \(maxConnected) pushes in flight; pushes stored before SIGTERM \(storedBeforeStop), at exit \(storedAtExit); client exits \(results.all.mapValues { "\($0.status) after \(Int($0.seconds * 1000)) ms" })"
        )
        for (name, r) in results.all.sorted(by: { $0.key < $1.key }) {
            // Either acknowledged, or the server went away: never a refusal.
            #expect([0, 69, 75].contains(r.status), "\(name): \(r)")
        }
        if maxConnected >= 3 {
            // OPERATIONS.md: on SIGTERM the server lets requests in flight finish.
            #expect(
                results.all.values.allSatisfy { $0.status == 0 } && storedAtExit == 3,
                "pushes in flight when SIGTERM came are completed and acknowledged:\n\(server.output())")
        }

        try server.start()
        try office.exchangeAll()
        let token = office.devices[0].token
        let info = try server.info(token: token)
        let frames = try server.pullAll(token: token)
        #expect(frames.count == info.changesets && info.head == info.changesets, "\(info)")
        #expect(frames.reduce(0) { $0 + $1.ops.count } == info.ops, "the ops stored are the ops served: \(info)")
        for (replica, acked) in info.replicas {
            let counters = frames.filter { $0.replica.description == replica }.flatMap { $0.ops.map(\.id.counter) }
            #expect(counters == Array(1...UInt64(acked)), "replica \(replica): acked \(acked) = exactly the ops a full pull returns")
        }
        #expect(info.replicas.count == 3)
        let export = try office.expectConverged()
        #expect(export.split(separator: "\n").filter { $0.contains("\"url\"") }.count == 3 * perLaptop)
    }

    @Test func `plain http to a non-loopback host is refused without --insecure (78)`() throws {
        let dir = try Scratch()
        let a = Laptop(dir.path("a.sqlite"))
        try a.run("init", "--name", "A").expect(0)
        let token = "ast_" + String(repeating: "A", count: 43)
        for url in ["http://192.0.2.10:8080", "http://sync.example.org", "HTTP://10.0.0.5"] {
            let r = try a.run("remote", "set", url, "--library", "newsroom", "--token", token)
            #expect(r.status == 78, "\(r)")
            #expect(r.stderr.contains("refusing plain http://") && r.stderr.contains("--insecure"), "\(r)")
            #expect(try a.run("remote", "show").status == 78, "nothing was configured")
        }
        for url in ["https://sync.example.org", "http://127.0.0.1:8080", "http://localhost:9000"] {
            try a.run("remote", "set", url, "--library", "newsroom", "--token", token).expect(0)
        }
        try a.run("remote", "set", "http://192.0.2.10:8080", "--library", "newsroom", "--token", token, "--insecure").expect(0)
        #expect(try a.object("remote", "show", "--json")["insecure"] as? String == "yes")
    }
}
