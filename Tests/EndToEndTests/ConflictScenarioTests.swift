import Foundation
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

/// The merge rules of DESIGN.md §2, played by three "laptops" (three stores) that only ever see
/// each other through changeset files, exactly as reporters on a USB stick would:
/// `changeset vv`, `changeset export --since FILE -o F`, `changeset apply F…`, `conflicts --json`.
/// After every scenario all three must hold the same library and the same conflicts.
@Suite("Merge scenarios through synccli changesets")
struct ConflictScenarioTests {
    /// Three laptops in one scratch directory.
    struct Office {
        let dir: Scratch
        let a: Laptop, b: Laptop, c: Laptop
        var all: [Laptop] { [a, b, c] }
        private let sequence = Counter()

        init(clockOffsets: [Int64?] = [nil, nil, nil]) throws {
            dir = try Scratch()
            a = Laptop(dir.path("a.sqlite"), clockOffsetMillis: clockOffsets[0])
            b = Laptop(dir.path("b.sqlite"), clockOffsetMillis: clockOffsets[1])
            c = Laptop(dir.path("c.sqlite"), clockOffsetMillis: clockOffsets[2])
            for (l, name) in zip(all, ["A", "B", "C"]) { try l.run("init", "--name", name).expect(0) }
        }

        func name(_ l: Laptop) -> String { URL(fileURLWithPath: l.store).deletingPathExtension().lastPathComponent }

        /// One USB-stick trip: `to` writes what it has seen, `from` exports only what `to` lacks,
        /// `to` applies it. Returns the changeset file.
        @discardableResult
        func send(from: Laptop, to: Laptop) throws -> String {
            let n = sequence.next()
            let vv = dir.path("\(name(to))-\(n).vv")
            try Data(try to.ok("changeset", "vv").utf8).write(to: URL(fileURLWithPath: vv))
            let file = dir.path("\(name(from))-to-\(name(to))-\(n).ascs")
            try from.run("changeset", "export", "--since", vv, "-o", file).expect(0)
            try to.run("changeset", "apply", file).expect(0)
            return file
        }

        /// Everyone exports everything they hold; everyone applies the others' files. (A laptop
        /// with no ops sends nothing: its export is a 0-byte file that `apply` refuses — see
        /// `an up-to-date laptop's changeset applies as a no-op`.)
        func exchangeAll() throws {
            let n = sequence.next()
            let files = try all.map { l -> String? in
                let f = dir.path("\(name(l))-all-\(n).ascs")
                let exported = try l.run("changeset", "export", "-o", f, "--json").expect(0).object()
                return (exported["ops"] as? Int ?? 0) > 0 ? f : nil
            }
            for (i, l) in all.enumerated() {
                let others = files.enumerated().filter { $0.offset != i }.compactMap(\.element)
                if others.isEmpty { continue }
                try CLI.run(["--store", l.store, "changeset", "apply"] + others, env: l.env).expect(0)
            }
        }

        /// All three hold the same library (`export --format jsonl`) and the same conflicts.
        @discardableResult
        func expectConverged(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let exports = try all.map { try $0.export() }
            let conflicts = try all.map { try $0.conflicts() }
            #expect(Set(exports).count == 1, "exports differ:\n\(exports.joined(separator: "\n---\n"))", sourceLocation: sourceLocation)
            #expect(Set(conflicts).count == 1, "conflicts differ:\n\(conflicts.joined(separator: "\n---\n"))", sourceLocation: sourceLocation)
            #expect(!exports[0].isEmpty, sourceLocation: sourceLocation)
            return exports[0]
        }

        /// `a` captures the seed and everyone receives it.
        func sharedSeed(_ extra: String...) throws -> String {
            let r = try CLI.run(["--store", a.store, "add", CLI.seedArticle, "--json"] + extra, env: a.env).expect(0)
            let id = try #require(try r.object()["id"] as? String)
            try send(from: a, to: b)
            try send(from: a, to: c)
            return id
        }
    }

    final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }

    static func conflicts(_ l: Laptop) throws -> [String: Any] { try l.object("conflicts", "--json") }
    static func title(_ l: Laptop, _ id: String) throws -> String? { try l.object("show", id, "--json")["title"] as? String }

    // MARK: - Rule 1: scalar fields are LWW registers ordered by HLC

    @Test func `the same title edited on two laptops: later edit wins, loser kept, resolution syncs`() throws {
        let office = try Office()
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try office.sharedSeed()

        try a.run("edit", id, "--title", "عنوان من الحاسوب أ").expect(0)
        try b.run("edit", id, "--title", "عنوان من الحاسوب ب").expect(0) // later, and without seeing A's edit
        let aOp = try #require(try a.array("log", "--limit", "1", "--json").first?["op"] as? String)
        let aReplica = try #require(try a.status()["replica"] as? String)

        try office.exchangeAll()
        for l in office.all {
            #expect(try Self.title(l, id) == "عنوان من الحاسوب ب", "the later edit wins on \(l.store)")
            let fields = try Self.conflicts(l)["fields"] as? [[String: Any]] ?? []
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
        let keep = try #require(((Self.conflicts(c)["fields"] as? [[String: Any]])?.first?["losers"] as? [[String: Any]])?.first?["op"] as? String)
        try c.run("conflicts", "resolve", id, "title", "--keep", keep).expect(0)
        #expect(try Self.title(c, id) == "عنوان من الحاسوب أ")
        try office.exchangeAll()
        for l in office.all {
            #expect(try Self.title(l, id) == "عنوان من الحاسوب أ")
            let after = try Self.conflicts(l)
            #expect((after["fields"] as? [Any])?.isEmpty == true && (after["trash"] as? [Any])?.isEmpty == true)
        }
        try office.expectConverged()

        // Resolving what is no longer in conflict is refused.
        let r = try c.run("conflicts", "resolve", id, "title", "--keep", keep)
        #expect(r.status == 65, "\(r)")
    }

    @Test func `a laptop with a fast clock does not win against an edit made after seeing its own`() throws {
        // A's clock runs 9 minutes fast: just inside the 10-minute skew a receiver accepts.
        let office = try Office(clockOffsets: [9 * 60 * 1000, nil, nil])
        let (a, b) = (office.a, office.b)
        let id = try office.sharedSeed()

        try a.run("edit", id, "--title", "تعديل أ (ساعة متقدمة)").expect(0)
        try office.send(from: a, to: b)
        #expect(try Self.title(b, id) == "تعديل أ (ساعة متقدمة)")
        // B edits after seeing A's edit; B's wall clock is 9 minutes behind A's stamp.
        try b.run("edit", id, "--title", "تعديل ب بعد الاطلاع").expect(0)
        let bEntry = try #require(try b.array("log", "--limit", "1", "--json").first)
        let aEntry = try #require(try a.array("log", "--limit", "1", "--json").first)
        let hlcMillis = { (e: [String: Any]) in Double((e["hlc"] as? String ?? "").split(separator: ".").first ?? "") ?? 0 }
        #expect(hlcMillis(bEntry) >= hlcMillis(aEntry), "B's op is stamped after A's despite B's slower wall clock")
        #expect(hlcMillis(aEntry) > Date().timeIntervalSince1970 * 1000 + 60_000, "A's clock really is ahead")

        try office.exchangeAll()
        for l in office.all {
            #expect(try Self.title(l, id) == "تعديل ب بعد الاطلاع", "the causally later edit wins on \(l.store)")
            #expect(try l.status()["conflicts"] as? Int == 0, "an edit made after seeing another is not a conflict")
        }
        try office.expectConverged()
    }

    @Test func `a laptop whose clock is an hour ahead has its changes refused, not allowed to win`() throws {
        let office = try Office(clockOffsets: [3_600_000, nil, nil])
        let (a, b) = (office.a, office.b)
        let id = try #require(try a.object("add", CLI.seedArticle, "--json")["id"] as? String)
        try a.run("edit", id, "--title", "from the future").expect(0)
        let file = office.dir.path("a.ascs")
        try a.run("changeset", "export", "-o", file).expect(0)
        let before = try b.snapshot()
        let r = try b.run("changeset", "apply", file)
        #expect(r.status == 65, "\(r)")
        #expect(r.stderr.contains("future") && r.stderr.contains("nothing was applied"), "\(r)")
        #expect(try b.snapshot() == before)
        // The other direction is fine: the fast laptop accepts the others' past.
        try b.run("add", "-", stdin: Data("From B\nLead\nBody.".utf8)).expect(0)
        try office.send(from: b, to: a)
        #expect(try a.array("list", "--json").count == 2)
    }

    // MARK: - Rule 2: add-wins sets

    @Test func `a tag removed on A and re-added on B concurrently stays everywhere`() throws {
        let office = try Office()
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

    @Test func `an article trashed on A while C highlighted it: highlight kept, conflict reported`() throws {
        let office = try Office()
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
            let trash = try Self.conflicts(l)["trash"] as? [[String: Any]] ?? []
            #expect(trash.map { $0["article"] as? String } == [id], "the article is flagged on \(l.store)")
            let reason = trash.first?["reason"] as? String ?? ""
            #expect(reason.contains("trash"), "\(reason)")
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
            let shown = try l.ok("show", id)
            #expect(shown.contains("CONFLICT") == false)
        }
        try office.expectConverged()
    }

    // MARK: - Identity: the same story captured twice offline

    @Test func `the same article captured on two laptops offline is one article with both sets of work`() throws {
        let office = try Office()
        let (a, b) = (office.a, office.b)
        let idA = try #require(try a.object("add", CLI.seedArticle, "--url", "https://www.almayadeen.net/news/gaza?utm_source=twitter",
                                            "--tag", "غزة", "--json")["id"] as? String)
        let idB = try #require(try b.object("add", CLI.seedArticle, "--url", "https://WWW.ALMAYADEEN.NET/news/gaza/#comments",
                                            "--tag", "انسحاب", "--tag", "news", "--json")["id"] as? String)
        #expect(idA == idB, "the article id comes from the canonical URL")
        let hA = try #require(try a.object("highlight", idA, "--quote", "مخيم المغازي", "--json")["id"] as? String)
        let hB = try #require(try b.object("highlight", idB, "--quote", "شارع الرشيد", "--note", "تحقق", "--json")["id"] as? String)

        try office.exchangeAll()
        for l in office.all {
            let list = try l.array("list", "--json")
            #expect(list.count == 1, "one article on \(l.store)")
            let shown = try l.object("show", idA, "--json")
            #expect(Set(shown["tags"] as? [String] ?? []) == ["غزة", "انسحاب", "news"])
            let annotations = shown["annotations"] as? [[String: Any]] ?? []
            #expect(Set(annotations.compactMap { $0["id"] as? String }) == [hA, hB])
            #expect(Set(annotations.compactMap { $0["exact"] as? String }) == ["مخيم المغازي", "شارع الرشيد"])
            #expect(shown["title"] as? String == CLITests.seed.title)
        }
        try office.expectConverged()
    }

    // MARK: - Rule 4 and the file format: bad files, duplicates, order

    @Test func `a truncated or corrupted changeset is refused whole; duplicates and order do not matter`() throws {
        let office = try Office()
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try office.sharedSeed("--tag", "one")

        // Concurrent work on A and B, each exported as one file.
        try a.run("edit", id, "--title", "A's title").expect(0)
        try a.run("tag", "add", id, "two").expect(0)
        try a.run("highlight", id, "--quote", "مخيم المغازي").expect(0)
        try a.run("collection", "create", "Desk").expect(0)
        try a.run("collection", "add", "Desk", id).expect(0)
        try b.run("edit", id, "--title", "B's title", "--enable-star").expect(0)
        try b.run("tag", "remove", id, "one").expect(0)
        try b.run("note", "--article", id, "B's note").expect(0)
        let fileA = office.dir.path("a.ascs"), fileB = office.dir.path("b.ascs")
        try a.run("changeset", "export", "-o", fileA).expect(0)
        try b.run("changeset", "export", "-o", fileB).expect(0)

        // Truncated, bit-flipped and garbage files: exit 65, file named, nothing applied. (A 0-byte
        // file is what `export` writes when there is nothing to send: see the no-op test below.)
        let good = try Data(contentsOf: URL(fileURLWithPath: fileA))
        var flipped = good
        flipped[flipped.count / 2] ^= 0x5a
        let bad: [(String, Data)] = [("truncated", good.prefix(good.count * 2 / 3)), ("flipped", flipped),
                                     ("garbage", Data("not a changeset\n".utf8)),
                                     ("cut-header", good.prefix(5))]
        for (name, data) in bad {
            let path = office.dir.path("\(name).ascs")
            try data.write(to: URL(fileURLWithPath: path))
            let before = try c.snapshot()
            let statusBefore = try c.status()
            let r = try c.run("changeset", "apply", path)
            #expect(r.status == 65, "\(name): \(r)")
            #expect(r.stderr.contains("\(name).ascs") && r.stderr.contains("nothing applied"), "\(name): \(r)")
            #expect(try c.snapshot() == before, "\(name)")
            #expect(try c.status()["versionVector"] as? String == statusBefore["versionVector"] as? String)
            // A good file listed before the bad one is not applied either.
            let mixed = try c.run("changeset", "apply", fileB, path)
            #expect(mixed.status == 65, "\(name): \(mixed)")
            #expect(try c.snapshot() == before, "\(name): one bad file among several leaves the store untouched")
        }
        #expect(try c.run("changeset", "apply", office.dir.path("nope.ascs")).status == 66)

        // C applies B's file then A's (A and B each get the other's): different orders, same result.
        try c.run("changeset", "apply", fileB, fileA).expect(0)
        try a.run("changeset", "apply", fileB).expect(0)
        try b.run("changeset", "apply", fileA).expect(0)
        let converged = try office.expectConverged()

        // Applying the same files again changes nothing.
        for l in office.all {
            let before = try l.snapshot()
            let r = try l.object("changeset", "apply", fileA, fileB, fileA, "--json")
            #expect(r["applied"] as? Int == 0)
            #expect((r["duplicates"] as? Int ?? 0) > 0)
            #expect(try l.snapshot() == before)
        }
        #expect(try office.expectConverged() == converged)
        #expect(try Self.title(c, id) == "B's title")
    }

    @Test func `an up-to-date laptop's changeset applies as a no-op`() throws {
        let office = try Office()
        let (a, b) = (office.a, office.b)
        _ = try office.sharedSeed()
        // B already has everything A has: the documented vv → export --since → apply round
        // must still work (a sync script runs it whether or not there is news).
        let vv = office.dir.path("b.vv")
        try Data(try b.ok("changeset", "vv").utf8).write(to: URL(fileURLWithPath: vv))
        let file = office.dir.path("nothing-new.ascs")
        let exported = try a.object("changeset", "export", "--since", vv, "-o", file, "--json")
        #expect(exported["ops"] as? Int == 0)
        let before = try b.snapshot()
        // export writes an empty file; apply says there is nothing to apply and succeeds.
        let r = try b.run("changeset", "apply", file)
        #expect(r.status == 0, "\(r)")
        #expect(try b.snapshot() == before)
    }

    @Test func `incremental changesets applied out of order converge`() throws {
        let office = try Office()
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try office.sharedSeed()
        // A makes three rounds of changes, each exported with --since what B had seen before it.
        var files: [String] = []
        let vvFile = office.dir.path("start.vv")
        try Data(try a.ok("changeset", "vv").utf8).write(to: URL(fileURLWithPath: vvFile))
        for (i, tag) in ["one", "two", "three"].enumerated() {
            try a.run("tag", "add", id, tag).expect(0)
            try a.run("edit", id, "--title", "round \(i + 1)").expect(0)
            let f = office.dir.path("round-\(i + 1).ascs")
            try a.run("changeset", "export", "--since", vvFile, "-o", f).expect(0)
            try Data(try a.ok("changeset", "vv").utf8).write(to: URL(fileURLWithPath: vvFile))
            files.append(f)
        }
        // B gets them newest first, one at a time; C gets them all at once, reversed.
        for f in files.reversed() { try b.run("changeset", "apply", f).expect(0) }
        try CLI.run(["--store", c.store, "changeset", "apply"] + files.reversed()).expect(0)
        for l in office.all {
            #expect(try Self.title(l, id) == "round 3")
            #expect(Set(try l.object("show", id, "--json")["tags"] as? [String] ?? []) == ["one", "two", "three"])
        }
        try office.expectConverged()
    }
}
