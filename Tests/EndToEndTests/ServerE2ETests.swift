import Foundation
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue "sync server", done-when: three real `synccli` stores converge through the real
/// `syncserver` (its own process, data directory and loopback port) with nothing but
/// `synccli sync`; a revoked or read-only device is refused with exit 77 and changes nothing;
/// a server killed between a push's commit and its response, or stopped with SIGTERM while
/// several laptops push, loses nothing and duplicates nothing.
@Suite("Sync server end to end: real syncserver, real synccli")
struct ServerE2ETests {
    /// Three laptops enrolled on one running server.
    final class Office: @unchecked Sendable {
        let dir: Scratch
        let server: ServerProcess
        let a: Laptop, b: Laptop, c: Laptop
        let devices: [EnrolledDevice]
        var all: [Laptop] { [a, b, c] }

        init(clockOffsets: [Int64?] = [nil, nil, nil], failpoints: String? = nil) throws {
            dir = try Scratch()
            server = try ServerProcess(dir)
            var laptops: [Laptop] = [], devices: [EnrolledDevice] = []
            for (name, offset) in zip(["A", "B", "C"], clockOffsets) {
                let (laptop, device) = try server.laptop(dir, name, clockOffsetMillis: offset)
                laptops.append(laptop)
                devices.append(device)
            }
            (a, b, c) = (laptops[0], laptops[1], laptops[2])
            self.devices = devices
            try server.start(failpoints: failpoints)
        }

        deinit { server.kill() }

        func device(_ l: Laptop) -> EnrolledDevice { devices[all.firstIndex { $0.store == l.store } ?? 0] }

        /// `synccli sync` on each laptop, twice round, so everyone has everyone's ops.
        func syncAll(sourceLocation: SourceLocation = #_sourceLocation) throws {
            for l in all + all { try l.run("sync").expect(0, sourceLocation: sourceLocation) }
        }

        /// All three hold the same library and the same conflicts, and the server holds exactly
        /// what they made.
        @discardableResult
        func expectConverged(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let exports = try all.map { try $0.export() }
            let conflicts = try all.map { try $0.conflicts() }
            #expect(Set(exports).count == 1, "exports differ:\n\(exports.joined(separator: "\n---\n"))", sourceLocation: sourceLocation)
            #expect(Set(conflicts).count == 1, "conflicts differ:\n\(conflicts.joined(separator: "\n---\n"))", sourceLocation: sourceLocation)
            #expect(!exports[0].isEmpty, sourceLocation: sourceLocation)
            let info = try server.info(token: devices[0].token)
            for l in all {
                let status = try l.status()
                let replica = status["replica"] as? String ?? ""
                #expect(status["pending"] as? Int == 0, "\(l.store) still has ops to push", sourceLocation: sourceLocation)
                #expect(info.replicas[replica, default: 0] == status["ownOps"] as? Int ?? -1,
                        "server holds \(info.replicas[replica, default: 0]) ops of \(l.store)'s replica: \(info)", sourceLocation: sourceLocation)
            }
            #expect(info.ops == info.replicas.values.reduce(0, +), "no op stored twice: \(info)", sourceLocation: sourceLocation)
            return exports[0]
        }

        /// A captures the seed article and everyone syncs.
        func sharedSeed(_ extra: String...) throws -> String {
            let r = try CLI.run(["--store", a.store, "add", CLI.seedArticle, "--json"] + extra, env: a.env).expect(0)
            let id = try #require(try r.object()["id"] as? String)
            try syncAll()
            for l in all { #expect(try l.array("list", "--json").map { $0["id"] as? String } == [id]) }
            return id
        }
    }

    static func conflicts(_ l: Laptop) throws -> [String: Any] { try l.object("conflicts", "--json") }
    static func title(_ l: Laptop, _ id: String) throws -> String? { try l.object("show", id, "--json")["title"] as? String }

    // MARK: - Merge scenarios through the server

    @Test func `same title edited on two laptops: the later edit wins, the loser is listed on every laptop`() throws {
        let office = try Office()
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed()

        try a.run("edit", id, "--title", "عنوان من الحاسوب أ").expect(0)
        try b.run("edit", id, "--title", "عنوان من الحاسوب ب").expect(0) // later, without having seen A's
        try office.syncAll()
        for l in office.all {
            #expect(try Self.title(l, id) == "عنوان من الحاسوب ب", "the later edit wins on \(l.store)")
            let fields = try Self.conflicts(l)["fields"] as? [[String: Any]] ?? []
            #expect(fields.count == 1, "\(l.store): \(fields)")
            #expect(fields.first?["entity"] as? String == id && fields.first?["field"] as? String == "title")
            let losers = fields.first?["losers"] as? [[String: Any]] ?? []
            #expect(losers.map { $0["value"] as? String } == ["عنوان من الحاسوب أ"], "the losing title is kept on \(l.store)")
        }
        try office.expectConverged()
    }

    /// B edits after seeing the edit of A, whose clock runs `offset` ahead: B's edit is
    /// causally later and must win everywhere, and it is not a conflict.
    func causalEditWins(clockAheadMillis offset: Int64) throws {
        let office = try Office(clockOffsets: [offset, nil, nil])
        let (a, b, c) = (office.a, office.b, office.c)
        // B (a correct clock) captures the seed, so only A's own edit is stamped in the future.
        let id = try #require(try b.object("add", CLI.seedArticle, "--json")["id"] as? String)
        try b.run("sync").expect(0)
        try a.run("sync").expect(0)
        try c.run("sync").expect(0)

        try a.run("edit", id, "--title", "تعديل أ (ساعة متقدمة)").expect(0)
        let stamp = try #require(try a.array("log", "--limit", "1", "--json").first?["hlc"] as? String)
        let stampMillis = Double(stamp.split(separator: ".").first ?? "") ?? 0
        #expect(stampMillis > Date().timeIntervalSince1970 * 1000 + Double(offset) / 2, "A's clock really is ahead: \(stamp)")
        try a.run("sync").expect(0)
        try b.run("sync").expect(0)
        #expect(try Self.title(b, id) == "تعديل أ (ساعة متقدمة)", "B has seen A's edit")
        try b.run("edit", id, "--title", "تعديل ب بعد الاطلاع").expect(0)
        try office.syncAll()
        for l in office.all {
            #expect(try Self.title(l, id) == "تعديل ب بعد الاطلاع", "the causally later edit wins on \(l.store)")
            #expect(try l.status()["conflicts"] as? Int == 0, "an edit made after seeing another is no conflict (\(l.store))")
        }
        try office.expectConverged()
    }

    @Test func `clock 4 minutes ahead edits first, another laptop edits after seeing it: the causal edit wins`() throws {
        // Inside both tolerances: the server refuses ops > 5 min ahead of its clock, a laptop
        // refuses ops > 10 min ahead of its own.
        try causalEditWins(clockAheadMillis: 4 * 60 * 1000)
    }

    @Test func `clock an hour ahead: its sync is refused clearly (65), nothing is stored, the others keep syncing`() throws {
        // The done-when's "an hour ahead edits first, another edits after seeing it" cannot
        // happen: the server refuses ops stamped > 5 min ahead (422 clock_skew), because every
        // reader would refuse them (> 10 min) and the whole library would stop syncing.
        let office = try Office(clockOffsets: [3_600_000, nil, nil])
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try #require(try b.object("add", CLI.seedArticle, "--json")["id"] as? String)
        try b.run("sync").expect(0)
        try a.run("sync").expect(0)
        #expect(try Self.title(a, id) == CLITests.seed.title, "the fast laptop accepts the others' past")
        let before = try office.server.info(token: office.device(b).token)

        try a.run("edit", id, "--title", "from the future").expect(0)
        let refused = try a.run("sync")
        #expect(refused.status == 65, "\(refused)")
        #expect(refused.stderr.contains("ahead of the server's clock") && refused.stderr.contains("clock_skew"), "\(refused)")
        #expect(try a.status()["pending"] as? Int == 1, "the edit waits on the laptop")
        #expect(try office.server.info(token: office.device(b).token) == before, "nothing was stored")

        try b.run("edit", id, "--title", "B's title").expect(0)
        for l in [b, c, b] { try l.run("sync").expect(0) }
        #expect(try b.export() == c.export(), "the others are not blocked")
        #expect(try Self.title(c, id) == "B's title")
    }

    @Test func `a tag removed on A and re-added on B is present everywhere`() throws {
        let office = try Office()
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed("--tag", "غزة", "--tag", "news")

        try a.run("tag", "remove", id, "غزة").expect(0)
        try a.run("tag", "remove", id, "news").expect(0)
        try b.run("tag", "remove", id, "غزة").expect(0)
        try b.run("tag", "add", id, "غزة").expect(0)
        try office.syncAll()
        for l in office.all {
            #expect(try l.object("show", id, "--json")["tags"] as? [String] == ["غزة"],
                    "the re-add survives the concurrent remove, the uncontested remove holds (\(l.store))")
        }
        try office.expectConverged()
    }

    @Test func `trashed on A while C highlighted it: the highlight survives and the article is flagged everywhere`() throws {
        let office = try Office()
        let (a, c) = (office.a, office.c)
        let id = try office.sharedSeed()

        try a.run("trash", id).expect(0)
        let h = try #require(try c.object("highlight", id, "--quote", "مخيم المغازي", "--note", "مهم", "--json")["id"] as? String)
        try office.syncAll()
        for l in office.all {
            let annotations = try l.object("show", id, "--json")["annotations"] as? [[String: Any]] ?? []
            #expect(annotations.map { $0["id"] as? String } == [h], "C's highlight survives on \(l.store)")
            #expect(annotations.first?["exact"] as? String == "مخيم المغازي")
            let trash = try Self.conflicts(l)["trash"] as? [[String: Any]] ?? []
            #expect(trash.map { $0["article"] as? String } == [id], "the article is flagged on \(l.store)")
            #expect(try l.status()["conflicts"] as? Int == 1)
        }
        try office.expectConverged()
    }

    @Test func `the same article captured on two laptops is one article with both tag and highlight sets`() throws {
        let office = try Office()
        let (a, b) = (office.a, office.b)
        let idA = try #require(try a.object("add", CLI.seedArticle, "--url", "https://www.almayadeen.net/news/gaza?utm_source=twitter",
                                            "--tag", "غزة", "--json")["id"] as? String)
        let idB = try #require(try b.object("add", CLI.seedArticle, "--url", "https://WWW.ALMAYADEEN.NET/news/gaza/#comments",
                                            "--tag", "انسحاب", "--json")["id"] as? String)
        #expect(idA == idB, "the id comes from the canonical URL")
        let hA = try #require(try a.object("highlight", idA, "--quote", "مخيم المغازي", "--json")["id"] as? String)
        let hB = try #require(try b.object("highlight", idB, "--quote", "شارع الرشيد", "--json")["id"] as? String)
        try office.syncAll()
        for l in office.all {
            #expect(try l.array("list", "--json").count == 1, "one article on \(l.store)")
            let shown = try l.object("show", idA, "--json")
            #expect(Set(shown["tags"] as? [String] ?? []) == ["غزة", "انسحاب"])
            #expect(Set((shown["annotations"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }) == [hA, hB])
        }
        try office.expectConverged()
    }

    // MARK: - Refusals

    @Test func `a device revoked while the server runs is refused at its next push (77) and the library is unchanged`() throws {
        let office = try Office()
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed()
        let before = try office.server.info(token: office.device(b).token)

        let revoked = try office.server.admin("device", "revoke", office.device(a).id, "--data", office.server.data)
        #expect(revoked.status == 0, "\(revoked)")
        try a.run("edit", id, "--title", "بعد الإلغاء").expect(0)
        let push = try a.run("push", "--attempts", "1")
        #expect(push.status == 77, "\(push)")
        #expect(push.stderr.contains("revoked") && push.stderr.contains("refused this device"), "a clear message: \(push)")
        let sync = try a.run("sync", "--attempts", "1")
        #expect(sync.status == 77, "\(sync)")
        #expect(try a.status()["pending"] as? Int == 1, "the edit stays on the laptop, waiting")

        #expect(try office.server.info(token: office.device(b).token) == before, "nothing reached the library")
        try b.run("sync").expect(0)
        #expect(try Self.title(b, id) == CLITests.seed.title)
        #expect(office.server.output().contains("invalid_token"), "the refusal is logged with its code")
    }

    @Test func `a read-only device may pull but its push is refused (77) and writes nothing`() throws {
        let office = try Office()
        let id = try office.sharedSeed()
        let (reader, _) = try office.server.laptop(office.dir, "R", readOnly: true)
        try reader.run("pull").expect(0)
        #expect(try Self.title(reader, id) == CLITests.seed.title, "a read-only device pulls")

        let before = try office.server.info(token: office.device(office.a).token)
        try reader.run("tag", "add", id, "قراءة").expect(0)
        let push = try reader.run("push", "--attempts", "1")
        #expect(push.status == 77, "\(push)")
        #expect(push.stderr.contains("read-only") || push.stderr.contains("read_only"), "a clear message: \(push)")
        #expect(try reader.run("sync", "--attempts", "1").status == 77)
        #expect(try office.server.info(token: office.device(office.a).token) == before, "nothing reached the library")
        try office.syncAll()
        #expect(try office.expectConverged().contains("قراءة") == false)
    }

    // MARK: - Crashes and shutdowns

    @Test func `server SIGKILLed between a push's commit and its response: the retry is acknowledged, nothing is duplicated`() throws {
        let office = try Office()
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed("--tag", "غزة")
        #expect(office.server.stop() == .exited(0))

        try office.server.start(failpoints: "server.push.after-commit=crash")
        try a.run("edit", id, "--title", "عنوان جديد").expect(0)
        try a.run("tag", "add", id, "عاجل").expect(0)
        try a.run("highlight", id, "--quote", "مخيم المغازي").expect(0)
        try a.run("add", "-", stdin: Data("خبر ثان\nمقدمة\nنص الخبر.".utf8)).expect(0)
        let own = try #require(try a.status()["ownOps"] as? Int)
        let push = try a.run("push", "--attempts", "2")
        #expect(push.status == 69, "the response never came, the server is gone: \(push)")
        #expect(push.stderr.contains("cannot reach the server"), "\(push)")
        #expect(office.server.child?.waitForExit(timeout: 30) == .signalled(SIGKILL), "the failpoint killed the server")
        #expect(try a.status()["pending"] as? Int ?? 0 > 0, "the laptop never saw the ack")

        try office.server.start()
        let committed = try office.server.info(token: office.device(b).token)
        let replicaA = try #require(try a.status()["replica"] as? String)
        #expect(committed.replicas[replicaA] == own, "the push was committed before the kill: \(committed)")

        let retried = try a.object("push", "--json")
        #expect(retried["acked"] as? Int == own, "the retry is acknowledged: \(retried)")
        #expect(try a.status()["pending"] as? Int == 0)
        let after = try office.server.info(token: office.device(b).token)
        #expect(after == committed, "the retry was a replay: nothing stored twice (\(committed) → \(after))")
        #expect(after.replicas[replicaA] == own)
        let frames = try office.server.pullAll(token: office.device(b).token)
        let countersA = frames.filter { $0.replica.description == replicaA }.flatMap { $0.ops.map(\.id.counter) }
        #expect(countersA == Array(1...UInt64(own)), "each of A's ops exactly once on the server")

        try office.syncAll()
        try office.expectConverged()
        #expect(try Self.title(b, id) == "عنوان جديد")
    }

    /// JSON Lines of `count` distinct articles for `laptop`.
    static func articles(_ count: Int, laptop: String) -> String {
        (0..<count).map { i in
            let body = String(repeating: "نص المقال رقم \(i) من الحاسوب \(laptop). ", count: 20)
            let object: [String: Any] = ["url": "https://example.org/\(laptop)/\(i)", "title": "مقال \(i) (\(laptop))",
                                         "summary": "مقدمة", "body": body, "tags": ["wire", laptop], "source": "وكالة"]
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
        let office = try Office()
        let perLaptop = 300
        for (l, name) in zip(office.all, ["A", "B", "C"]) {
            let file = try office.dir.write("\(name).jsonl", Self.articles(perLaptop, laptop: name))
            try l.run("import", file).expect(0)
        }
        office.server.stop()
        // Each push waits 1.5 s after verifying its frame, then 200 ms inside its write
        // transaction: SIGTERM goes out while all three are in flight (verified and waiting,
        // queued for the writer, or committing).
        try office.server.start(failpoints: "server.push.after-decode=sleep:1500,server.push.mid-apply=sleep:200")

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
            maxConnected = max(maxConnected, office.server.establishedConnections())
            return maxConnected >= 3
        }
        let storedBeforeStop = office.server.output().components(separatedBy: "push stored").count - 1
        let stopped = office.server.stop(signal: SIGTERM, timeout: 60)
        #expect(stopped == .exited(0), "the server exits cleanly within its grace period:\n\(office.server.output())")
        #expect(group.wait(timeout: .now() + 120) == .success)
        let storedAtExit = office.server.output().components(separatedBy: "push stored").count - 1
        print("SIGTERM test: \(maxConnected) pushes in flight; pushes stored before SIGTERM \(storedBeforeStop), at exit \(storedAtExit); client exits \(results.all.mapValues { "\($0.status) after \(Int($0.seconds * 1000)) ms" })")
        for (name, r) in results.all.sorted(by: { $0.key < $1.key }) {
            // Either acknowledged, or the server went away: never a refusal.
            #expect([0, 69, 75].contains(r.status), "\(name): \(r)")
        }
        if maxConnected >= 3 {
            // OPERATIONS.md: on SIGTERM the server lets requests in flight finish.
            #expect(results.all.values.allSatisfy { $0.status == 0 } && storedAtExit == 3,
                    "pushes in flight when SIGTERM came are completed and acknowledged:\n\(office.server.output())")
        }

        try office.server.start()
        try office.syncAll()
        let token = office.device(office.a).token
        let info = try office.server.info(token: token)
        let frames = try office.server.pullAll(token: token)
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
