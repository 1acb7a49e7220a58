import Foundation
import TestHarness
import Testing

/// How the laptops of a story see each other's work.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `changeset vv`, `changeset export --since FILE -o F`, `changeset apply F…`, as on a USB stick.
    case changesetFiles
    /// `synccli sync` through a real `syncserver` process on loopback.
    case server

    var testDescription: String { rawValue }
}

/// Three laptops (three stores, real `synccli` runs) and the way they exchange their work.
final class Office: @unchecked Sendable {
    let transport: Transport
    let dir: Scratch
    let a: Laptop, b: Laptop, c: Laptop
    var all: [Laptop] { [a, b, c] }
    /// With `.server`: the server and the laptops' devices.
    let server: ServerProcess?
    let devices: [EnrolledDevice]
    private var trips = 0

    init(_ transport: Transport, clockOffsets: [Int64?] = [nil, nil, nil]) throws {
        self.transport = transport
        dir = try Scratch()
        var laptops: [Laptop] = [], devices: [EnrolledDevice] = []
        switch transport {
        case .changesetFiles:
            for (name, offset) in zip(["A", "B", "C"], clockOffsets) {
                let laptop = Laptop(dir.path("\(name).sqlite"), clockOffsetMillis: offset)
                try laptop.run("init", "--name", name).expect(0)
                laptops.append(laptop)
            }
            server = nil
        case .server:
            let server = try ServerProcess(dir)
            for (name, offset) in zip(["A", "B", "C"], clockOffsets) {
                let (laptop, device) = try server.laptop(dir, name, clockOffsetMillis: offset)
                laptops.append(laptop)
                devices.append(device)
            }
            try server.start()
            self.server = server
        }
        (a, b, c) = (laptops[0], laptops[1], laptops[2])
        self.devices = devices
    }

    deinit { server?.kill() }

    func name(_ l: Laptop) -> String { URL(fileURLWithPath: l.store).deletingPathExtension().lastPathComponent }

    /// `to` gets what `from` has (a USB-stick trip, or `from` syncs and then `to` does).
    func send(from: Laptop, to: Laptop, sourceLocation: SourceLocation = #_sourceLocation) throws {
        trips += 1
        switch transport {
        case .changesetFiles:
            let vv = dir.path("\(name(to))-\(trips).vv")
            try Data(try to.ok("changeset", "vv").utf8).write(to: URL(fileURLWithPath: vv))
            let file = dir.path("\(name(from))-to-\(name(to))-\(trips).ascs")
            try from.run("changeset", "export", "--since", vv, "-o", file).expect(0, sourceLocation: sourceLocation)
            try to.run("changeset", "apply", file).expect(0, sourceLocation: sourceLocation)
        case .server:
            try from.run("sync").expect(0, sourceLocation: sourceLocation)
            try to.run("sync").expect(0, sourceLocation: sourceLocation)
        }
    }

    /// Everyone gets everyone's work.
    func exchangeAll(sourceLocation: SourceLocation = #_sourceLocation) throws {
        trips += 1
        switch transport {
        case .changesetFiles:
            let files = try all.map { l -> String? in
                let f = dir.path("\(name(l))-all-\(trips).ascs")
                let exported = try l.run("changeset", "export", "-o", f, "--json").expect(0, sourceLocation: sourceLocation).object()
                return (exported["ops"] as? Int ?? 0) > 0 ? f : nil
            }
            for (i, l) in all.enumerated() {
                let others = files.enumerated().filter { $0.offset != i }.compactMap(\.element)
                if others.isEmpty { continue }
                try CLI.run(["--store", l.store, "changeset", "apply"] + others, env: l.env).expect(0, sourceLocation: sourceLocation)
            }
        case .server:
            for l in all + all { try l.run("sync").expect(0, sourceLocation: sourceLocation) }
        }
    }

    /// All three hold the same library (`export --format jsonl`) and the same conflicts; through
    /// a server, it also holds exactly what they made.
    @discardableResult
    func expectConverged(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let exports = try all.map { try $0.export() }
        let conflicts = try all.map { try $0.conflicts() }
        #expect(Set(exports).count == 1, "exports differ:\n\(exports.joined(separator: "\n---\n"))", sourceLocation: sourceLocation)
        #expect(Set(conflicts).count == 1, "conflicts differ:\n\(conflicts.joined(separator: "\n---\n"))", sourceLocation: sourceLocation)
        #expect(!exports[0].isEmpty, sourceLocation: sourceLocation)
        if let server {
            let info = try server.info(token: devices[0].token)
            for l in all {
                let status = try l.status()
                let replica = status["replica"] as? String ?? ""
                #expect(status["pending"] as? Int == 0, "\(l.store) still has ops to push", sourceLocation: sourceLocation)
                #expect(
                    info.replicas[replica, default: 0] == status["ownOps"] as? Int ?? -1,
                    "server holds \(info.replicas[replica, default: 0]) ops of \(l.store)'s replica: \(info)", sourceLocation: sourceLocation)
            }
            #expect(info.ops == info.replicas.values.reduce(0, +), "no op stored twice: \(info)", sourceLocation: sourceLocation)
        }
        return exports[0]
    }

    /// A captures the seed article and everyone receives it.
    func sharedSeed(_ extra: String...) throws -> String {
        let r = try CLI.run(["--store", a.store, "add", CLI.seedArticle, "--json"] + extra, env: a.env).expect(0)
        let id = try #require(try r.object()["id"] as? String)
        try exchangeAll()
        for l in all { #expect(try l.array("list", "--json").map { $0["id"] as? String } == [id]) }
        return id
    }

    func conflicts(_ l: Laptop) throws -> [String: Any] { try l.object("conflicts", "--json") }
    func title(_ l: Laptop, _ id: String) throws -> String? { try l.object("show", id, "--json")["title"] as? String }
}

/// The merge rules of DESIGN.md §2 as reporters meet them, each story told once and played over
/// both transports: changeset files between laptops, and a real server. After every story all
/// three laptops hold the same library and the same conflicts.
@Suite("Merge stories over changeset files and over the server")
struct MergeStoryTests {
    // MARK: - Rule 1: scalar fields are LWW registers ordered by HLC

    @Test(arguments: Transport.allCases)
    func `the same title edited on two laptops: the later edit wins, the loser is kept, a resolution syncs`(transport: Transport) throws {
        let office = try Office(transport)
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try office.sharedSeed()

        try a.run("edit", id, "--title", "عنوان من الحاسوب أ").expect(0)
        try b.run("edit", id, "--title", "عنوان من الحاسوب ب").expect(0)  // later, and without seeing A's edit
        let aOp = try #require(try a.array("log", "--limit", "1", "--json").first?["op"] as? String)
        let aReplica = try #require(try a.status()["replica"] as? String)

        try office.exchangeAll()
        for l in office.all {
            #expect(try office.title(l, id) == "عنوان من الحاسوب ب", "the later edit wins on \(l.store)")
            let fields = try office.conflicts(l)["fields"] as? [[String: Any]] ?? []
            #expect(fields.count == 1)
            let f = try #require(fields.first)
            #expect(f["entity"] as? String == id && f["field"] as? String == "title")
            #expect((f["current"] as? [String: Any])?["value"] as? String == "عنوان من الحاسوب ب")
            let losers = f["losers"] as? [[String: Any]] ?? []
            #expect(losers.map { $0["value"] as? String } == ["عنوان من الحاسوب أ"], "the losing value is kept")
            #expect(losers.first?["op"] as? String == "\(aReplica):\(aOp.split(separator: ":").last ?? "")")
            #expect(try l.status()["conflicts"] as? Int == 1)
            #expect(try l.ok("conflicts").contains("عنوان من الحاسوب أ"))
        }
        try office.expectConverged()

        // C (who edited nothing) settles it for everyone by keeping A's value.
        let keep = try #require(((office.conflicts(c)["fields"] as? [[String: Any]])?.first?["losers"] as? [[String: Any]])?.first?["op"] as? String)
        try c.run("conflicts", "resolve", id, "title", "--keep", keep).expect(0)
        #expect(try office.title(c, id) == "عنوان من الحاسوب أ")
        try office.exchangeAll()
        for l in office.all {
            #expect(try office.title(l, id) == "عنوان من الحاسوب أ")
            let after = try office.conflicts(l)
            #expect((after["fields"] as? [Any])?.isEmpty == true && (after["trash"] as? [Any])?.isEmpty == true)
        }
        try office.expectConverged()

        // Resolving what is no longer in conflict is refused.
        let r = try c.run("conflicts", "resolve", id, "title", "--keep", keep)
        #expect(r.status == 65, "\(r)")
    }

    @Test(arguments: Transport.allCases)
    func `a laptop with a fast clock does not win against an edit made after seeing its own`(transport: Transport) throws {
        // A's clock runs 5 minutes fast: inside what a reader and the server accept (10 minutes).
        let office = try Office(transport, clockOffsets: [5 * 60 * 1000, nil, nil])
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed()

        try a.run("edit", id, "--title", "تعديل أ (ساعة متقدمة)").expect(0)
        try office.send(from: a, to: b)
        #expect(try office.title(b, id) == "تعديل أ (ساعة متقدمة)", "B has seen A's edit")
        // B edits after seeing A's edit; B's wall clock is 5 minutes behind A's stamp.
        try b.run("edit", id, "--title", "تعديل ب بعد الاطلاع").expect(0)
        let bEntry = try #require(try b.array("log", "--limit", "1", "--json").first)
        let aEntry = try #require(try a.array("log", "--limit", "1", "--json").first)
        let hlcMillis = { (e: [String: Any]) in Double((e["hlc"] as? String ?? "").split(separator: ".").first ?? "") ?? 0 }
        #expect(hlcMillis(bEntry) >= hlcMillis(aEntry), "B's op is stamped after A's despite B's slower wall clock")
        #expect(hlcMillis(aEntry) > Date().timeIntervalSince1970 * 1000 + 60_000, "A's clock really is ahead")

        try office.exchangeAll()
        for l in office.all {
            #expect(try office.title(l, id) == "تعديل ب بعد الاطلاع", "the causally later edit wins on \(l.store)")
            #expect(try l.status()["conflicts"] as? Int == 0, "an edit made after seeing another is not a conflict")
        }
        try office.expectConverged()
    }

    @Test(arguments: Transport.allCases)
    func `a laptop whose clock is an hour ahead has its changes refused clearly, while the others go on`(transport: Transport) throws {
        let office = try Office(transport, clockOffsets: [3_600_000, nil, nil])
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try #require(try b.object("add", CLI.seedArticle, "--json")["id"] as? String)
        try office.send(from: b, to: a)
        #expect(try office.title(a, id) == CLITests.seed.title, "the fast laptop accepts the others' past")

        try a.run("edit", id, "--title", "from the future").expect(0)
        let before = try b.snapshot()
        switch transport {
        case .changesetFiles:
            let file = office.dir.path("a.ascs")
            try a.run("changeset", "export", "-o", file).expect(0)
            let r = try b.run("changeset", "apply", file)
            #expect(r.status == 65, "\(r)")
            #expect(r.stderr.contains("future") && r.stderr.contains("nothing was applied"), "\(r)")
        case .server:
            let server = try #require(office.server)
            let held = try server.info(token: office.devices[1].token)
            let r = try a.run("sync")
            #expect(r.status == 65, "\(r)")
            #expect(r.stderr.contains("ahead of the server's clock") && r.stderr.contains("clock_skew"), "\(r)")
            #expect(try a.status()["pending"] as? Int == 1, "the edit waits on the laptop")
            #expect(try server.info(token: office.devices[1].token) == held, "nothing was stored")
            try b.run("sync").expect(0)
        }
        #expect(try b.snapshot() == before, "nothing of the future reached B")
        try b.run("edit", id, "--title", "B's title").expect(0)
        try office.send(from: b, to: c)
        #expect(try office.title(c, id) == "B's title", "the others are not blocked")
    }

    // MARK: - Rule 2: add-wins sets

    @Test(arguments: Transport.allCases)
    func `a tag removed on A and re-added on B concurrently stays everywhere`(transport: Transport) throws {
        let office = try Office(transport)
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed("--tag", "غزة", "--tag", "news")

        try a.run("tag", "remove", id, "غزة").expect(0)
        try a.run("tag", "remove", id, "news").expect(0)
        try b.run("tag", "remove", id, "غزة").expect(0)
        try b.run("tag", "add", id, "غزة").expect(0)
        try office.exchangeAll()
        for l in office.all {
            let tags = try l.object("show", id, "--json")["tags"] as? [String]
            #expect(tags == ["غزة"], "re-add survives the concurrent remove; the uncontested remove holds (\(l.store))")
            #expect(try l.array("list", "--tag", "غزة", "--json").count == 1)
        }
        try office.expectConverged()
    }

    // MARK: - Rule 3: nothing deletes a colleague's concurrent work

    @Test(arguments: Transport.allCases)
    func `an article trashed on A while C highlighted it: the highlight is kept, the conflict reported, a restore settles it`(
        transport: Transport
    ) throws {
        let office = try Office(transport)
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try office.sharedSeed()

        try a.run("trash", id).expect(0)
        let h = try #require(try c.object("highlight", id, "--quote", "مخيم المغازي", "--note", "مهم", "--json")["id"] as? String)
        try office.exchangeAll()
        for l in office.all {
            let shown = try l.object("show", id, "--json")
            let annotations = shown["annotations"] as? [[String: Any]] ?? []
            #expect(annotations.map { $0["id"] as? String } == [h], "C's highlight survives on \(l.store)")
            #expect(annotations.first?["exact"] as? String == "مخيم المغازي" && annotations.first?["note"] as? String == "مهم")
            let trash = try office.conflicts(l)["trash"] as? [[String: Any]] ?? []
            #expect(trash.map { $0["article"] as? String } == [id], "the article is flagged on \(l.store)")
            #expect((trash.first?["reason"] as? String ?? "").contains("trash"))
            #expect(try l.ok("show", id).contains("\nCONFLICT: "), "show prints the CONFLICT line on \(l.store)")
            #expect(try l.status()["conflicts"] as? Int == 1)
        }
        try office.expectConverged()

        // B settles it by restoring the article; everyone sees it back with the highlight.
        try b.run("restore", id).expect(0)
        try office.exchangeAll()
        for l in office.all {
            #expect(try l.array("list", "--json").map { $0["id"] as? String } == [id])
            #expect(try l.status()["conflicts"] as? Int == 0)
            #expect(try l.ok("show", id).contains("CONFLICT") == false)
        }
        try office.expectConverged()
    }

    // MARK: - Identity: the same story captured twice offline

    @Test(arguments: Transport.allCases)
    func `the same article captured on two laptops offline is one article with both sets of work`(transport: Transport) throws {
        let office = try Office(transport)
        let (a, b) = (office.a, office.b)
        let idA = try #require(
            try a.object(
                "add", CLI.seedArticle, "--url", "https://www.almayadeen.net/news/gaza?utm_source=twitter",
                "--tag", "غزة", "--json")["id"] as? String)
        let idB = try #require(
            try b.object(
                "add", CLI.seedArticle, "--url", "https://WWW.ALMAYADEEN.NET/news/gaza/#comments",
                "--tag", "انسحاب", "--tag", "news", "--json")["id"] as? String)
        #expect(idA == idB, "the article id comes from the canonical URL")
        let hA = try #require(try a.object("highlight", idA, "--quote", "مخيم المغازي", "--json")["id"] as? String)
        let hB = try #require(try b.object("highlight", idB, "--quote", "شارع الرشيد", "--note", "تحقق", "--json")["id"] as? String)

        try office.exchangeAll()
        for l in office.all {
            #expect(try l.array("list", "--json").count == 1, "one article on \(l.store)")
            let shown = try l.object("show", idA, "--json")
            #expect(Set(shown["tags"] as? [String] ?? []) == ["غزة", "انسحاب", "news"])
            let annotations = shown["annotations"] as? [[String: Any]] ?? []
            #expect(Set(annotations.compactMap { $0["id"] as? String }) == [hA, hB])
            #expect(Set(annotations.compactMap { $0["exact"] as? String }) == ["مخيم المغازي", "شارع الرشيد"])
            #expect(shown["title"] as? String == CLITests.seed.title)
        }
        try office.expectConverged()
    }
}
