import Foundation
import GRDB
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

/// Every synccli command through the real binary: the happy path a reporter takes, and the bad
/// input they will sooner or later type — which must fail with the documented exit code, a
/// message that says what went wrong, and no change to the store.
@Suite("synccli commands, end to end")
struct CLITests {
    // MARK: - Fixture

    /// The seed article split the way `add` reads plain text: title, lead, then the body.
    static let seed: (title: String, lead: String, body: String) = {
        let text = (try? String(contentsOfFile: CLI.seedArticle, encoding: .utf8)) ?? ""
        let lines = text.components(separatedBy: "\n")
        let body = lines.dropFirst(2).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return (lines.first ?? "", lines.count > 1 ? lines[1] : "", body)
    }()

    /// A fresh, initialised store in `dir`.
    func laptop(_ dir: Scratch, _ name: String = "a") throws -> Laptop {
        let l = Laptop(dir.path("\(name).sqlite"))
        try l.run("init", "--name", name).expect(0)
        return l
    }

    /// Adds the seed article and returns its id.
    func addSeed(_ l: Laptop, _ extra: String...) throws -> String {
        let r = try CLI.run(["--store", l.store, "add", CLI.seedArticle, "--json"] + extra, env: l.env).expect(0)
        return try #require(try r.object()["id"] as? String)
    }

    /// Runs a command that must fail with `code`, leave the store untouched and say `mentioning`.
    func expectRefused(
        _ l: Laptop, _ code: Int32, mentioning: String? = nil, stdin: Data? = nil, _ args: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try l.snapshot()
        let r = try CLI.run(["--store", l.store] + args, stdin: stdin, env: l.env)
        #expect(r.status == code, "\(r)", sourceLocation: sourceLocation)
        #expect(!r.stderr.isEmpty, "a refusal must say why: \(r)", sourceLocation: sourceLocation)
        if let mentioning {
            #expect(r.stderr.localizedCaseInsensitiveContains(mentioning), "\(r)", sourceLocation: sourceLocation)
        }
        #expect(try l.snapshot() == before, "the store changed after a refused command: \(r)", sourceLocation: sourceLocation)
    }

    static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.precomposedStringWithCanonicalMapping.unicodeScalars) }

    @Test func `output into a pipe the reader closed ends like a Unix tool, not with a crash`() throws {
        let dir = try Scratch()
        let l = try laptop(dir)
        _ = try addSeed(l)
        // `true` exits without reading: every write synccli makes meets a closed pipe. SIGPIPE is
        // ignored, as it is once `sync` has started its HTTP client, so the write itself fails.
        let script = "trap '' PIPE; set -o pipefail; \"$0\" --store \"$1\" list --json | true; echo \"status=$?\""
        let r = try CLI.runShell(script, arguments: [CLI.binary, l.store])
        #expect(r.stdout.contains("status=141"), "\(r)")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("crashed"), "\(r)")
    }

    // MARK: - init

    @Test func `init creates a store once and refuses to overwrite it`() throws {
        let dir = try Scratch()
        let a = Laptop(dir.path("nested/dir/a.sqlite"))
        let created = try a.object("init", "--name", "Amal's laptop", "--json")
        let replica = try #require(created["replica"] as? String)
        #expect(replica.count == 32 && replica.allSatisfy(\.isHexDigit))
        #expect(created["name"] as? String == "Amal's laptop")
        #expect(FileManager.default.fileExists(atPath: a.store))
        _ = try addSeed(a)

        try expectRefused(a, 73, mentioning: "already exists", ["init", "--name", "again"])
        #expect(try a.status()["replica"] as? String == replica)
        #expect(try a.status()["name"] as? String == "Amal's laptop")
    }

    // MARK: - add

    @Test func `add reads the seed from a file with its Arabic title and lead`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let added = try a.object("add", CLI.seedArticle, "--tag", "غزة", "--json")
        #expect(added["created"] as? Bool == true)
        #expect(added["title"] as? String == Self.seed.title)
        let id = try #require(added["id"] as? String)
        let shown = try a.object("show", id, "--json")
        #expect(shown["title"] as? String == Self.seed.title)
        #expect(shown["summary"] as? String == Self.seed.lead)
        #expect(shown["tags"] as? [String] == ["غزة"])
        #expect(try a.ok("add", CLI.seedArticle).hasPrefix("already in the library: \(id)"))
    }

    @Test func `add from standard input is the same article as from the file`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let seedData = try Data(contentsOf: URL(fileURLWithPath: CLI.seedArticle))
        let fromStdin = try a.run("add", "-", "--json", stdin: seedData).expect(0).object()
        #expect(fromStdin["created"] as? Bool == true)
        #expect(fromStdin["title"] as? String == Self.seed.title)
        let fromFile = try a.object("add", CLI.seedArticle, "--tag", "second", "--json")
        #expect(fromFile["created"] as? Bool == false)
        #expect(fromFile["id"] as? String == fromStdin["id"] as? String)
        let list = try a.array("list", "--json")
        #expect(list.count == 1)
        #expect(list.first?["tags"] as? [String] == ["second"], "a second capture adds its tags")
    }

    @Test func `the same URL captured twice (tracking params, fragment, case) is one article`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let first = try addSeed(a, "--url", "https://www.almayadeen.net/news/politics/gaza?utm_source=tw", "--tag", "one")
        let second = try a.object(
            "add", CLI.seedArticle, "--url", "HTTPS://WWW.ALMAYADEEN.NET/news/politics/gaza/#top",
            "--tag", "two", "--json")
        #expect(second["id"] as? String == first)
        #expect(second["created"] as? Bool == false)
        let list = try a.array("list", "--json")
        #expect(list.count == 1)
        #expect(Set(list.first?["tags"] as? [String] ?? []) == ["one", "two"])
        #expect(try a.object("show", first, "--json")["url"] as? String == "https://www.almayadeen.net/news/politics/gaza")
    }

    @Test func `add reads Markdown and HTML`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let md = try a.run(
            "add", "-", "--format", "markdown", "--json",
            stdin: Data("# عنوان المقال\n\nالمقدمة هنا.\n\nالفقرة الأولى.\n\nالفقرة الثانية.\n".utf8)
        ).expect(0).object()
        let mdArticle = try a.object("show", try #require(md["id"] as? String), "--json")
        #expect(mdArticle["title"] as? String == "عنوان المقال")
        #expect(mdArticle["summary"] as? String == "المقدمة هنا.")
        #expect((mdArticle["body"] as? String ?? "").contains("الفقرة الثانية."))
        #expect(!(mdArticle["body"] as? String ?? "").contains("# "))

        let html = try dir.write(
            "page.html",
            """
            <html><head><title>Site | Story</title></head><body>
            <h1>Ceasefire talks resume</h1><p>Negotiators met in Doha &amp; Cairo.</p><p>Second paragraph.</p>
            </body></html>
            """)
        let h = try a.object("add", html, "--format", "html", "--json")
        let htmlArticle = try a.object("show", try #require(h["id"] as? String), "--json")
        #expect(htmlArticle["title"] as? String == "Ceasefire talks resume")
        #expect(htmlArticle["summary"] as? String == "Negotiators met in Doha & Cairo.")
        #expect(htmlArticle["body"] as? String == "Second paragraph.")
        #expect(try a.array("list", "--json").count == 2)
    }

    @Test func `add refuses a missing file, empty input, a bad URL and an unknown format`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        _ = try addSeed(a)
        try expectRefused(a, 66, mentioning: "no such file", ["add", dir.path("missing.txt")])
        try expectRefused(a, 65, mentioning: "empty", stdin: Data(), ["add", "-"])
        try expectRefused(a, 65, mentioning: "empty", stdin: Data("  \n\n".utf8), ["add", "-"])
        try expectRefused(a, 65, mentioning: "empty", ["add", try dir.write("empty.txt", "")])
        try expectRefused(a, 65, mentioning: "URL", ["add", CLI.seedArticle, "--url", "not a url"])
        try expectRefused(a, 65, mentioning: "URL", ["add", CLI.seedArticle, "--url", "ftp://example.com/x"])
        try expectRefused(a, 64, mentioning: "format", ["add", CLI.seedArticle, "--format", "pdf"])
        try expectRefused(a, 65, mentioning: "UTF-8", stdin: Data([0xff, 0xfe, 0x00, 0xd8]), ["add", "-"])
    }

    // MARK: - import

    @Test func `import reads JSON Lines with tags, collections and annotations`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let file = try dir.write(
            "lib.jsonl",
            """
            {"type":"collection","id":"c-1","name":"غزة"}
            {"title":"First","body":"Alpha beta gamma.","url":"https://example.com/1","tags":["x","y"],"collections":["c-1"]}
            {"title":"ثانية","summary":"مقدمة","body":"نص عربي في مخيم المغازي.","annotations":[{"kind":"note","note":"مصدر"}]}

            """)
        let report = try a.object("import", file, "--json")
        #expect(report["articlesCreated"] as? Int == 2)
        #expect(report["collections"] as? Int == 1)
        #expect(report["annotations"] as? Int == 1)
        let list = try a.array("list", "--json")
        #expect(Set(list.compactMap { $0["title"] as? String }) == ["First", "ثانية"])
        #expect(try a.array("list", "--tag", "x", "--json").map { $0["title"] as? String } == ["First"])
        #expect(try a.array("list", "--collection", "غزة", "--json").map { $0["title"] as? String } == ["First"])
        let arabic = try #require(list.first { $0["title"] as? String == "ثانية" }?["id"] as? String)
        let notes = try a.object("show", arabic, "--json")["annotations"] as? [[String: Any]] ?? []
        #expect(notes.count == 1 && notes.first?["kind"] as? String == "note" && notes.first?["note"] as? String == "مصدر")

        // Importing the same file again creates nothing new.
        let again = try a.object("import", file, "--json")
        #expect(again["articlesCreated"] as? Int == 0)
        #expect(again["articlesExisting"] as? Int == 2)
        #expect(try a.array("list", "--json").count == 2)
    }

    @Test func `import of a file with a malformed line names the line and imports nothing`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let bad = try dir.write(
            "bad.jsonl",
            """
            {"title":"One","body":"first"}
            {"title":"Two","body":"second"}
            {"title": "Three", "body": oops}
            {"title":"Four","body":"fourth"}
            """)
        try expectRefused(a, 65, mentioning: "line 3", ["import", bad])
        let noTitle = try dir.write("notitle.jsonl", "{\"title\":\"One\",\"body\":\"x\"}\n{\"body\":\"no title\"}\n")
        try expectRefused(a, 65, mentioning: "line 2", ["import", noTitle])
        try expectRefused(a, 65, mentioning: "line 1", stdin: Data("[1,2,3]\n".utf8), ["import", "-"])
        try expectRefused(a, 66, mentioning: "no such file", ["import", dir.path("nope.jsonl")])
        #expect(try a.status()["ops"] as? Int == 0)
        #expect(try a.array("list", "--json").isEmpty)
    }

    @Test func `import anchors a positioned highlight on a new article`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let file = try dir.write(
            "hl.jsonl",
            """
            {"title":"ثانية","body":"نص عربي في مخيم المغازي.","annotations":[{"kind":"highlight","start":11,"end":23,"note":"مصدر"}]}

            """)
        // The article row is only materialized when the import's transaction ends: the anchor
        // must be checked against the body in the merge state (regression, fixed in bdafc34).
        try a.run("import", file).expect(0)
        let id = try #require(try a.array("list", "--json").first?["id"] as? String)
        let notes = try a.object("show", id, "--json")["annotations"] as? [[String: Any]] ?? []
        #expect(notes.first?["exact"] as? String == "مخيم المغازي")
        #expect(notes.first?["start"] as? Int == 11 && notes.first?["end"] as? Int == 23)
        #expect(notes.first?["note"] as? String == "مصدر")
    }

    // MARK: - list

    @Test func `list filters by tag, collection and trash, in text and JSON`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let seed = try addSeed(a, "--tag", "غزة")
        let other =
            try a.run("add", "-", "--tag", "economy", "--json", stdin: Data("Markets\nLead\nBody text.".utf8)).expect(0).object()["id"] as! String
        let third = try a.run("add", "-", "--json", stdin: Data("Weather\nLead\nRain.".utf8)).expect(0).object()["id"] as! String
        try a.run("collection", "create", "Desk").expect(0)
        try a.run("collection", "add", "Desk", other).expect(0)
        try a.run("trash", third).expect(0)

        let all = try a.array("list", "--json")
        #expect(Set(all.compactMap { $0["id"] as? String }) == [seed, other])
        #expect(all.allSatisfy { $0["trashed"] as? Bool == false })
        #expect(try a.array("list", "--tag", "غزة", "--json").map { $0["id"] as? String } == [seed])
        #expect(try a.array("list", "--collection", "Desk", "--json").map { $0["id"] as? String } == [other])
        let trash = try a.array("list", "--trash", "--json")
        #expect(trash.map { $0["id"] as? String } == [third])
        #expect(trash.first?["trashed"] as? Bool == true)

        let text = try a.run("list").expect(0)
        #expect(text.stdout.contains(String(seed.prefix(12))) && text.stdout.contains("[غزة]"))
        #expect(text.stdout.contains("Markets") && !text.stdout.contains("Weather"))
        #expect(try a.ok("list", "--trash").contains("Weather"))
        let none = try a.run("list", "--tag", "nothing").expect(0)
        #expect(none.stdout.isEmpty && none.stderr.contains("no articles"))
        try expectRefused(a, 65, ["list", "--collection", "No such desk"])
    }

    // MARK: - show

    @Test func `show prints the Arabic article intact`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        let json = try a.object("show", id, "--json")
        let body = try #require(json["body"] as? String)
        #expect(Self.scalars(body) == Self.scalars(Self.seed.body), "the body must round-trip scalar for scalar")
        #expect(Self.scalars(json["title"] as? String ?? "") == Self.scalars(Self.seed.title))

        let text = try a.run("show", String(id.prefix(6))).expect(0)
        let lines = text.stdout.components(separatedBy: "\n")
        #expect(lines.first == Self.seed.title)
        let nfcBody = Data(Self.seed.body.precomposedStringWithCanonicalMapping.utf8)
        #expect(text.stdoutData.range(of: nfcBody) != nil, "the text output must contain the body byte for byte")
        #expect(text.stdoutData.range(of: Data(Self.seed.lead.precomposedStringWithCanonicalMapping.utf8)) != nil)
        #expect(text.stdout.contains("id: \(id)"))
    }

    @Test func `show refuses an unknown id`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        _ = try addSeed(a)
        try expectRefused(a, 65, mentioning: "no article", ["show", "ffffffffffff"])
        try expectRefused(a, 65, ["show", "zz"])
    }

    // MARK: - edit

    @Test func `edit changes what list and show print`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        try a.run("edit", id, "--title", "عنوان جديد", "--byline", "Amal", "--star", "--read").expect(0)
        let shown = try a.object("show", id, "--json")
        #expect(shown["title"] as? String == "عنوان جديد")
        #expect(shown["byline"] as? String == "Amal")
        #expect(shown["starred"] as? Bool == true && shown["read"] as? Bool == true)
        try a.run("edit", id, "--unread", "--unstar").expect(0)
        let unset = try a.object("show", id, "--json")
        #expect(unset["starred"] as? Bool == false && unset["read"] as? Bool == false)
        #expect(try a.run("edit", id, "--read", "--unread").status == 64)
        #expect(try a.ok("list").contains("عنوان جديد"))
        #expect(try a.ok("show", id).hasPrefix("عنوان جديد\n"))

        let newBody = "فقرة واحدة جديدة."
        try a.run("edit", id, "--body-file", "-", stdin: Data(newBody.utf8)).expect(0)
        #expect(try a.object("show", id, "--json")["body"] as? String == newBody)
    }

    /// scripts/install-cli-extras.sh installs what these print (README, "Install").
    @Test func `shell completions come from the parser and know every command and flag`() throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try CLI.run(["--generate-completion-script", shell])
            #expect(script.status == 0)
            for word in ["sync", "edit", "annotation", "unread", "unstar", "body-file"] {
                #expect(script.stdout.contains(word), "\(shell) completion lacks \(word)")
            }
        }
    }

    @Test func `edit refuses an unknown id and an edit with nothing to change`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        try expectRefused(a, 65, mentioning: "no article", ["edit", "0123456789ab", "--title", "x"])
        try expectRefused(a, 64, mentioning: "nothing to edit", ["edit", id])
        try expectRefused(a, 66, ["edit", id, "--body-file", dir.path("missing.txt")])
    }

    // MARK: - tag

    @Test func `tag add and remove, and removing an absent tag is refused`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        #expect(try a.ok("tag", "add", id, "غزة", "Politics").contains("غزة"))
        #expect(Set(try a.object("show", id, "--json")["tags"] as? [String] ?? []) == ["غزة", "politics"])
        try a.run("tag", "add", id, "POLITICS").expect(0)
        #expect((try a.object("show", id, "--json")["tags"] as? [String] ?? []).count == 2, "Latin tags compare case-insensitively")
        try a.run("tag", "remove", id, "Politics").expect(0)
        #expect(try a.object("show", id, "--json")["tags"] as? [String] == ["غزة"])
        try expectRefused(a, 65, mentioning: "no tag", ["tag", "remove", id, "absent"])
        try expectRefused(a, 64, ["tag", "add", id])
        try expectRefused(a, 65, ["tag", "add", "ffffffffffff", "x"])
    }

    // MARK: - collection

    @Test func `collections: create, rename, move, add and remove articles, list, delete`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        let desk = try #require(try a.object("collection", "create", "غزة", "--json")["id"] as? String)
        let sub = try #require(try a.object("collection", "create", "North", "--parent", "غزة", "--json")["id"] as? String)
        let other = try #require(try a.object("collection", "create", "Other", "--json")["id"] as? String)

        try a.run("collection", "rename", "North", "الشمال").expect(0)
        var all = try a.array("collection", "list", "--json")
        #expect(all.first { $0["id"] as? String == sub }?["name"] as? String == "الشمال")
        #expect(all.first { $0["id"] as? String == sub }?["parent"] as? String == desk)

        try a.run("collection", "move", sub, "--to", other).expect(0)
        all = try a.array("collection", "list", "--json")
        #expect(all.first { $0["id"] as? String == sub }?["parent"] as? String == other)
        try a.run("collection", "move", sub, "--top").expect(0)
        all = try a.array("collection", "list", "--json")
        #expect(all.first { $0["id"] as? String == sub }?["parent"] == nil)

        try a.run("collection", "add", "غزة", id).expect(0)
        #expect(try a.array("collection", "list", "--json").first { $0["id"] as? String == desk }?["articleCount"] as? Int == 1)
        #expect(try a.object("show", id, "--json")["collections"] as? [String] != [])
        #expect(try a.array("list", "--collection", desk, "--json").map { $0["id"] as? String } == [id])
        let tree = try a.ok("collection", "list")
        #expect(tree.contains("غزة  (1)") && tree.contains("الشمال  (0)"))

        try a.run("collection", "remove", desk, id).expect(0)
        #expect(try a.array("list", "--collection", desk, "--json").isEmpty)
        try a.run("collection", "delete", other).expect(0)
        all = try a.array("collection", "list", "--json")
        #expect(!all.contains { $0["id"] as? String == other && $0["trashed"] as? Bool != true })
        #expect(try a.array("list", "--json").count == 1, "deleting a collection keeps its articles")
    }

    @Test func `collections refuse moves into themselves or their descendants, and unknown names`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        _ = try addSeed(a)
        try a.run("collection", "create", "Parent").expect(0)
        try a.run("collection", "create", "Child", "--parent", "Parent").expect(0)
        try a.run("collection", "create", "Grandchild", "--parent", "Child").expect(0)
        try expectRefused(a, 65, mentioning: "itself", ["collection", "move", "Parent", "--to", "Parent"])
        try expectRefused(a, 65, ["collection", "move", "Parent", "--to", "Grandchild"])
        try expectRefused(a, 64, ["collection", "move", "Parent"])
        try expectRefused(a, 64, ["collection", "move", "Child", "--to", "Parent", "--top"])
        try expectRefused(a, 65, ["collection", "rename", "Nope", "X"])
        try expectRefused(a, 65, ["collection", "add", "Parent", "ffffffffffff"])
        try expectRefused(a, 65, ["collection", "delete", "Nope"])
    }

    // MARK: - highlight, note, annotation

    @Test func `highlight by quote, by occurrence and by offsets anchors the right text`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        let body = Self.scalars(try a.object("show", id, "--json")["body"] as? String ?? "")
        /// Unicode scalar offsets of every occurrence of `quote` in the body.
        func occurrences(_ quote: String) -> [Int] {
            let q = Self.scalars(quote)
            return body.indices.filter { i in i + q.count <= body.count && Array(body[i..<(i + q.count)]) == q }
        }

        let first = try a.object(
            "highlight", id, "--quote", "مخيم المغازي", "--note", "تحقق من المصدر",
            "--color", "yellow", "--json")
        let second = try a.object("highlight", id, "--quote", "قطاع غزّة", "--occurrence", "2", "--json")
        let byRange = try a.object("highlight", id, "--start", "0", "--end", "4", "--json")
        #expect(first["article"] as? String == id)

        let annotations = try a.object("show", id, "--json")["annotations"] as? [[String: Any]] ?? []
        func annotation(_ r: [String: Any]) -> [String: Any]? { annotations.first { $0["id"] as? String == r["id"] as? String } }
        let h1 = try #require(annotation(first)), h2 = try #require(annotation(second)), h3 = try #require(annotation(byRange))
        #expect(h1["exact"] as? String == "مخيم المغازي" && h1["note"] as? String == "تحقق من المصدر" && h1["color"] as? String == "yellow")
        #expect(h1["start"] as? Int == occurrences("مخيم المغازي").first)
        #expect(h1["end"] as? Int == (occurrences("مخيم المغازي").first ?? 0) + Self.scalars("مخيم المغازي").count)
        let gaza = occurrences("قطاع غزّة")
        #expect(gaza.count >= 2)
        #expect(h2["start"] as? Int == gaza.dropFirst().first, "--occurrence 2 anchors the second occurrence")
        #expect(h2["exact"] as? String == "قطاع غزّة")
        #expect(h3["exact"] as? String == String(String.UnicodeScalarView(body[0..<4])))
        #expect(h3["start"] as? Int == 0 && h3["end"] as? Int == 4)
        #expect((h1["prefix"] as? String ?? "").isEmpty == false && (h1["suffix"] as? String ?? "").isEmpty == false)

        let shown = try a.ok("show", id)
        #expect(shown.contains("«مخيم المغازي»") && shown.contains("تحقق من المصدر"))
    }

    @Test func `a highlight stays on its words through edit --body-file, and is shown detached when they are deleted`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        let highlight = try a.object("highlight", id, "--quote", "شارع الرشيد", "--json")
        let body = try a.object("show", id, "--json")["body"] as? String ?? ""
        // The issue's case: one sentence added at the top.
        let edited = try dir.write("edited.txt", "عاجل: تأكيد الخبر من مصادر محلية.\n" + body)
        try a.run("edit", id, "--body-file", edited).expect(0)
        let shown = try a.object("show", id, "--json")
        let newBody = Self.scalars(shown["body"] as? String ?? "")
        let h = try #require((shown["annotations"] as? [[String: Any]])?.first { $0["id"] as? String == highlight["id"] as? String })
        let start = try #require(h["start"] as? Int), end = try #require(h["end"] as? Int)
        #expect(String(String.UnicodeScalarView(newBody[start..<end])) == "شارع الرشيد", "start/end cover the highlighted words")
        #expect(h["exact"] as? String == "شارع الرشيد")
        // Deleting the sentence that holds them: the highlight is kept, marked detached, listed.
        let sentence = try #require(body.components(separatedBy: "\n").first { $0.contains("شارع الرشيد") })
        let without = try dir.write("without.txt", (shown["body"] as? String ?? "").replacingOccurrences(of: sentence, with: ""))
        try a.run("edit", id, "--body-file", without).expect(0)
        #expect(try a.ok("show", id).contains("«شارع الرشيد» DETACHED"))
        let conflicts = try a.object("conflicts", "--json")
        #expect((conflicts["detached"] as? [[String: Any]])?.map { $0["annotation"] as? String } == [highlight["id"] as? String])
        #expect(try a.ok("conflicts").contains("detached: «شارع الرشيد»"))
    }

    @Test func `highlight refuses a quote not in the text, both selectors, and bad offsets`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        try expectRefused(a, 65, mentioning: "not found", ["highlight", id, "--quote", "نص غير موجود"])
        try expectRefused(a, 65, mentioning: "not found", ["highlight", id, "--quote", "مخيم المغازي", "--occurrence", "9"])
        try expectRefused(a, 64, mentioning: "not both", ["highlight", id, "--quote", "مخيم", "--start", "1", "--end", "3"])
        try expectRefused(a, 64, ["highlight", id, "--start", "1"])
        try expectRefused(a, 64, ["highlight", id, "--quote", "مخيم", "--occurrence", "0"])
        try expectRefused(a, 65, ["highlight", id, "--start", "10", "--end", "5"])
        try expectRefused(a, 65, ["highlight", id, "--start", "0", "--end", "999999"])
        try expectRefused(a, 65, ["highlight", "ffffffffffff", "--quote", "مخيم"])
    }

    @Test func `note on a highlight, free note on an article, and annotation remove`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        let h = try #require(try a.object("highlight", id, "--quote", "مخيم المغازي", "--json")["id"] as? String)
        try a.run("note", String(h.prefix(13)), "يحتاج", "إلى", "تأكيد").expect(0)
        let free = try #require(try a.object("note", "--article", id, "ملاحظة", "عامة", "--json")["id"] as? String)

        var annotations = try a.object("show", id, "--json")["annotations"] as? [[String: Any]] ?? []
        #expect(annotations.first { $0["id"] as? String == h }?["note"] as? String == "يحتاج إلى تأكيد")
        let freeNote = annotations.first { $0["id"] as? String == free }
        #expect(freeNote?["kind"] as? String == "note" && freeNote?["note"] as? String == "ملاحظة عامة")
        #expect(try a.ok("show", id).contains("note: ملاحظة عامة"))

        try expectRefused(a, 64, ["note", h])
        try expectRefused(a, 65, mentioning: "no annotation", ["note", "0000dead", "text"])
        try expectRefused(a, 65, ["note", "--article", "ffffffffffff", "text"])

        try a.run("annotation", "remove", h).expect(0)
        annotations = try a.object("show", id, "--json")["annotations"] as? [[String: Any]] ?? []
        #expect(annotations.map { $0["id"] as? String } == [free])
        try expectRefused(a, 65, ["annotation", "remove", h])
    }

    // MARK: - trash, restore

    @Test func `trash and restore, and no edits while in the trash`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        try a.run("trash", id).expect(0)
        #expect(try a.array("list", "--json").isEmpty)
        #expect(try a.array("list", "--trash", "--json").map { $0["id"] as? String } == [id])
        #expect(try a.object("show", id, "--json")["trashed"] as? Bool == true)
        #expect(try a.ok("show", id).contains("state: in the trash"))

        try expectRefused(a, 65, mentioning: "trash", ["edit", id, "--title", "x"])
        try expectRefused(a, 65, mentioning: "trash", ["tag", "add", id, "x"])
        try expectRefused(a, 65, mentioning: "trash", ["highlight", id, "--quote", "مخيم المغازي"])
        try expectRefused(a, 65, ["trash", id])

        try a.run("restore", id).expect(0)
        #expect(try a.array("list", "--json").map { $0["id"] as? String } == [id])
        try expectRefused(a, 65, mentioning: "not in the trash", ["restore", id])
        try a.run("edit", id, "--title", "back").expect(0)
    }

    // MARK: - search

    @Test(arguments: ["غزه", "غزة", "غزّة", "للمقاومة", "وغزة", "الاحتلال", "مخيم المغازي", "\"قطاع غزة\"", "مقاوم*"])
    func `search folds Arabic variants`(query: String) throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        _ = try a.run("add", "-", stdin: Data("Unrelated\nLead\nNothing to see here.".utf8)).expect(0)
        let hits = try CLI.run(["--store", a.store, "search", "--json"] + query.split(separator: " ").map(String.init)).expect(0).array()
        #expect(hits.map { $0["id"] as? String } == [id], "\(query)")
        let snippet = hits.first?["snippet"] as? String ?? ""
        #expect(snippet.contains("[") && snippet.contains("]"), "the snippet marks the match: \(snippet)")
    }

    @Test func `search prints text results, nothing for a miss, and skips the trash unless asked`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        let text = try a.ok("search", "غزه")
        #expect(text.contains(String(id.prefix(12))) && text.contains("["))
        let miss = try a.run("search", "كلمةغيرموجودة").expect(0)
        #expect(miss.stdout.isEmpty && miss.stderr.contains("no matches"))
        try a.run("trash", id).expect(0)
        #expect(try a.array("search", "غزه", "--json").isEmpty)
        #expect(try a.array("search", "غزه", "--include-trash", "--json").map { $0["id"] as? String } == [id])
    }

    // MARK: - log

    @Test func `log shows the replica and the change`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        try a.run("edit", id, "--title", "عنوان معدل").expect(0)
        let replica = try #require(try a.status()["replica"] as? String)
        let entries = try a.array("log", "--json")
        #expect(entries.count == 2)
        let newest = try #require(entries.first)
        #expect(newest["replica"] as? String == replica)
        #expect(newest["counter"] as? Int == 2)
        #expect((newest["change"] as? String ?? "").contains("title=عنوان معدل"))
        #expect((newest["change"] as? String ?? "").contains(id))
        #expect((entries.last?["change"] as? String ?? "").hasPrefix("create article \(id)"))

        let text = try a.ok("log", id)
        let firstLine = text.components(separatedBy: "\n").first ?? ""
        #expect(firstLine.contains(String(replica.prefix(8))) && firstLine.contains("title=عنوان معدل"))
        #expect(try a.array("log", "--limit", "1", "--json").count == 1)
        try expectRefused(a, 65, ["log", "ffffffffffff"])
    }

    // MARK: - export

    @Test func `export JSON Lines round-trips through import into a fresh store`() throws {
        let dir = try Scratch()
        let a = try laptop(dir, "a")
        let id = try addSeed(a, "--url", "https://www.almayadeen.net/news/gaza", "--tag", "غزة", "--tag", "news")
        try a.run("edit", id, "--byline", "مراسل الميادين", "--star").expect(0)
        let h = try #require(try a.object("highlight", id, "--quote", "مخيم المغازي", "--color", "yellow", "--json")["id"] as? String)
        try a.run("note", h, "تحقق").expect(0)
        try a.run("note", "--article", id, "ملاحظة").expect(0)
        try a.run("collection", "create", "Desk").expect(0)
        try a.run("collection", "create", "Sub", "--parent", "Desk").expect(0)
        try a.run("collection", "add", "Sub", id).expect(0)
        let trashed = try a.run("add", "-", "--json", stdin: Data("Old story\nLead\nBody.".utf8)).expect(0).object()["id"] as! String
        try a.run("trash", trashed).expect(0)

        let file = dir.path("a.jsonl")
        try a.run("export", "--format", "jsonl", "-o", file).expect(0)
        let exportA = try String(contentsOfFile: file, encoding: .utf8)
        #expect(exportA == (try a.export()), "-o writes what stdout would")
        #expect(exportA.split(separator: "\n").count == 4, "2 collections + 2 articles")

        let b = try laptop(dir, "b")
        try b.run("import", file).expect(0)
        let exportB = try b.export()
        #expect(exportB == exportA)
        // And importing into a store that already has everything is a no-op.
        let ops = try b.status()["ops"] as? Int
        try b.run("import", file).expect(0)
        #expect(try b.status()["ops"] as? Int == ops)
        #expect(try b.export() == exportA)
    }

    @Test func `export JSON Lines round-trips tags, collections, notes, flags and the trash`() throws {
        let dir = try Scratch()
        let a = try laptop(dir, "a")
        let id = try addSeed(a, "--url", "https://www.almayadeen.net/news/gaza", "--tag", "غزة", "--tag", "news")
        try a.run("edit", id, "--byline", "مراسل الميادين", "--star", "--read").expect(0)
        try a.run("note", "--article", id, "ملاحظة").expect(0)
        try a.run("collection", "create", "Desk", "--description", "the desk").expect(0)
        try a.run("collection", "create", "Sub", "--parent", "Desk").expect(0)
        try a.run("collection", "add", "Sub", id).expect(0)
        let trashed = try a.run("add", "-", "--json", stdin: Data("Old story\nLead\nBody.".utf8)).expect(0).object()["id"] as! String
        try a.run("trash", trashed).expect(0)
        let exportA = try a.export()

        let b = try laptop(dir, "b")
        try b.run("import", "-", stdin: Data(exportA.utf8)).expect(0)
        #expect(try b.export() == exportA)
        #expect(try b.array("list", "--trash", "--json").map { $0["id"] as? String } == [trashed])
    }

    @Test func `export Markdown has the title, lead, highlights and notes`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a, "--tag", "غزة")
        try a.run("highlight", id, "--quote", "مخيم المغازي", "--note", "تحقق من المصدر").expect(0)
        let md = try a.ok("export", "--format", "markdown")
        #expect(md.contains("# \(Self.seed.title)"))
        #expect(md.contains(Self.seed.lead.precomposedStringWithCanonicalMapping))
        #expect(md.contains("> مخيم المغازي"))
        #expect(md.contains("تحقق من المصدر"))
        #expect(md.contains("غزة"))
        try expectRefused(a, 64, mentioning: "format", ["export", "--format", "docx"])
    }

    // MARK: - status, doctor

    @Test func `status JSON counts what the library holds`() throws {
        let dir = try Scratch()
        let a = try laptop(dir, "desk-laptop")
        var s = try a.status()
        #expect(s["articles"] as? Int == 0 && s["ops"] as? Int == 0 && s["conflicts"] as? Int == 0)
        #expect(s["name"] as? String == "desk-laptop")
        let id = try addSeed(a, "--tag", "غزة")
        try a.run("highlight", id, "--quote", "مخيم المغازي").expect(0)
        try a.run("collection", "create", "Desk").expect(0)
        s = try a.status()
        #expect(s["articles"] as? Int == 1)
        #expect(s["annotations"] as? Int == 1)
        #expect(s["collections"] as? Int == 1)
        #expect(s["tags"] as? Int == 1)
        #expect(s["trashed"] as? Int == 0)
        let ops = try #require(s["ops"] as? Int)
        #expect(ops >= 3 && s["ownOps"] as? Int == ops)
        #expect(s["versionVector"] as? String == "\(s["replica"] as? String ?? ""):\(ops)")
        #expect(try a.ok("status").contains("1 articles"))
    }

    @Test func `doctor checks integrity and rebuilds from the op log`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a, "--tag", "غزة")
        try a.run("highlight", id, "--quote", "مخيم المغازي").expect(0)
        let before = try a.snapshot()
        #expect(try a.ok("doctor").contains("integrity ok"))
        #expect(try a.ok("doctor", "--rebuild").contains("state unchanged"))
        #expect(try a.snapshot() == before)
        #expect(try a.array("search", "غزه", "--json").count == 1, "the search index survives a rebuild")
    }

    // MARK: - The store: where it is, and when it cannot be used

    @Test func `--store works before or after the subcommand, and from the environment`() throws {
        let dir = try Scratch()
        let path = dir.path("s.sqlite")
        try CLI.run(["init", "--store", path]).expect(0)
        try CLI.run(["--store", path, "add", CLI.seedArticle]).expect(0)
        try CLI.run([
            "--store=\(path)", "tag", "add", "--store", path,
            String((try CLI.run(["list", "--store", path, "--json"]).expect(0).array().first?["id"] as? String ?? "").prefix(8)), "x",
        ]).expect(0)
        let viaEnv = try CLI.run(["list", "--json"], env: ["ARTICLESYNC_STORE": path]).expect(0).array()
        #expect(viaEnv.count == 1 && viaEnv.first?["tags"] as? [String] == ["x"])
        let viaXDG = try CLI.run(["init"], env: ["XDG_DATA_HOME": dir.path("xdg")]).expect(0)
        #expect(FileManager.default.fileExists(atPath: dir.path("xdg/articlesync/store.sqlite")), "\(viaXDG)")
        try CLI.run(["--store"]).expect(64)
    }

    @Test func `ARTICLESYNC_CLOCK_OFFSET_MS shifts the laptop's clock, and a bad value is refused`() throws {
        let dir = try Scratch()
        let fast = Laptop(dir.path("fast.sqlite"), clockOffsetMillis: 3_600_000)
        try fast.run("init").expect(0)
        _ = try addSeed(fast)
        let hlc = try #require(try fast.array("log", "--json").first?["hlc"] as? String)
        let millis = Double(hlc.split(separator: ".").first ?? "") ?? 0
        let expected = Date().timeIntervalSince1970 * 1000 + 3_600_000
        #expect(abs(millis - expected) < 120_000, "op stamped \(hlc), expected about \(Int(expected))")
        let r = try CLI.run(["--store", fast.store, "list"], env: ["ARTICLESYNC_CLOCK_OFFSET_MS": "an hour"])
        #expect(r.status == 78 && r.stderr.contains("ARTICLESYNC_CLOCK_OFFSET_MS"), "\(r)")
    }

    @Test func `a store that does not exist is a configuration error`() throws {
        let dir = try Scratch()
        let missing = dir.path("nowhere.sqlite")
        for args in [["list"], ["add", CLI.seedArticle], ["status", "--json"], ["changeset", "vv"]] {
            let r = try CLI.run(["--store", missing] + args)
            #expect(r.status == 78, "\(r)")
            #expect(r.stderr.contains("synccli init"), "\(r)")
        }
        #expect(!FileManager.default.fileExists(atPath: missing), "a read must not create a store")
    }

    @Test func `a file that is not SQLite is an I/O error`() throws {
        let dir = try Scratch()
        let junk = try dir.write("junk.sqlite", String(repeating: "this is not a database\n", count: 50))
        for args in [["list"], ["add", CLI.seedArticle], ["doctor"]] {
            let r = try CLI.run(["--store", junk] + args)
            #expect(r.status == 74, "\(r)")
            #expect(r.stderr.contains("not a readable"), "\(r)")
        }
        #expect(try String(contentsOfFile: junk, encoding: .utf8) == String(repeating: "this is not a database\n", count: 50))
    }

    @Test func `a locked store makes writes retry later with exit 75`() throws {
        let dir = try Scratch()
        let a = try laptop(dir)
        let id = try addSeed(a)
        let before = try a.snapshot()
        let holder = try DatabaseQueue(path: a.store)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            defer { try? db.execute(sql: "ROLLBACK") }
            let started = Date()
            let r = try a.run("tag", "add", id, "locked")
            #expect(r.status == 75, "\(r)")
            #expect(r.stderr.contains("locked"), "\(r)")
            #expect(Date().timeIntervalSince(started) < 8, "a locked store must be reported within seconds")
        }
        try holder.close()
        #expect(try a.snapshot() == before)
        try a.run("tag", "add", id, "unlocked").expect(0)
    }
}
