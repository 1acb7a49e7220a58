import BenchKit
import Foundation
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

/// The standard bench workload (scripts/bench/workload.py, a copy of shared/bench/workload.py)
/// replayed end to end: three offline replicas converging through changeset files, and a
/// 2,000-article import through the real `synccli` binary.
///
/// The generator is `$ARTICLESYNC_WORKLOAD_PY`, else the repo copy; the seed text is
/// `$SEED_ARTICLE`, else Tests/Fixtures/seed-article-ar.txt (the same file as
/// shared/corpus/seed-article-ar.txt), so a clean clone is enough.
@Suite(.serialized)
struct WorkloadTests {
    // MARK: a) three replicas, standard workload `--size small --seed 42`

    @Test func `three replicas replay the small workload offline and converge through changeset files`() throws {
        let dir = try Fixture.temporaryDirectory("workload-small")
        defer { try? FileManager.default.removeItem(at: dir) }
        var clock = Stopwatch()
        let workload = try Workload.load(from: try Fixture.generateWorkload(["--size", "small", "--seed", "42"], in: dir))
        #expect(workload.meta.n_articles == 200)
        if let sha = workload.meta.seed_text_sha256 {
            #expect(sha == "2e1c13f30e3755f8ab87f1f6dc0645ebf15d147cb551a4687a812c3a4fa3fb21", "not the standard seed text")
        }
        print("[workload] generated small/42: \(workload.base.count) base ops, \(workload.streamOpCount) stream ops in \(clock.lap())")

        let names = ["A", "B", "C"]
        var stores: [String: Store] = [:]
        for name in names {
            stores[name] = try Store.create(at: dir.appendingPathComponent("\(name).sqlite").path, name: "journalist-\(name.lowercased())")
        }
        let a = stores["A"]!, b = stores["B"]!, c = stores["C"]!
        let replay = WorkloadReplay(workload)

        // Base on A, shipped to B and C as one changeset file.
        let imported = try replay.replayBase(on: a)
        #expect(imported.articlesCreated == workload.meta.n_articles)
        #expect(imported.collections == workload.meta.n_collections)
        let baseExport = try a.exportChangesets()
        let baseFile = dir.appendingPathComponent("base-A.changes")
        try Data(baseExport.bytes).write(to: baseFile)
        for other in [b, c] {
            let report = try other.applyChangesets(Array(try Data(contentsOf: baseFile)))
            #expect(report.applied == baseExport.ops)
        }
        print(
            "[workload] base: import \(imported.ops) ops on A; changeset file \(baseExport.bytes.count) B (\(baseExport.frames) frame(s), \(baseExport.ops) ops) applied on B and C; \(clock.lap())"
        )

        // Offline streams, each on its own replica.
        let afterBase = try a.versionVector()
        var reports: [String: ReplayReport] = [:]
        for name in names {
            let report = try replay.replayStream(name, on: stores[name]!)
            reports[name] = report
            print("[workload] \(report)")
            let expected = workload.streams[name]!.count
            #expect(report.totalApplied + report.totalSkipped == expected)
            #expect(report.spliceOffsetMismatches == 0, "replica \(name): local body differs from the generator's view")
            #expect(report.anchorMismatches == 0, "replica \(name): highlight quotes differ from the workload's")
            // The generator only emits ops valid against the replica's local view: nothing is refused.
            #expect(report.skipped.isEmpty, "replica \(name) skipped \(report.skipped)")
        }
        print("[workload] streams replayed in \(clock.lap())")

        // Exchange changeset files pairwise until every version vector is equal.
        var round = 0
        var transfers: [ChangesetTransfer] = []
        while Set(try names.map { try stores[$0]!.versionVector() }).count > 1 {
            round += 1
            try #require(round <= 3, "no convergence after 3 rounds of exchange")
            var roundBytes = 0
            for from in names {
                for to in names where to != from {
                    let t = try ChangesetFiles.transfer(from: stores[from]!, from, to: stores[to]!, to, via: dir, label: "round\(round)")
                    transfers.append(t)
                    roundBytes += t.bytes
                    print("[workload] round \(round) \(t)")
                }
            }
            print("[workload] round \(round): \(roundBytes) B of changeset files")
        }
        print("[workload] converged after \(round) round(s) in \(clock.lap())")

        let dumps = try names.map { try stores[$0]!.canonicalDump() }
        for (i, other) in [(1, "B"), (2, "C")] {
            let same = dumps[0] == dumps[i]
            #expect(same, "A and \(other) differ after sync: \(same ? "" : Fixture.firstDifference(dumps[0], dumps[i]))")
        }
        print("[workload] canonical dump \(dumps[0].utf8.count) B, identical on A, B, C")

        // The deliberate conflicts are visible (the same on every replica, since the dumps match).
        let conflicts = try a.conflicts()
        let fieldConflicts = Set(conflicts.fields.map { "\($0.entity)/\($0.field)" })
        let trashConflicts = Set(conflicts.trash.map(\.article))
        func ours(_ id: String) throws -> String { try #require(replay.articleID(id)) }
        for id in workload.conflicts.field {
            #expect(fieldConflicts.contains("\(try ours(id))/title"), "no title conflict on \(id)")
        }
        for id in workload.conflicts.summary3 {
            #expect(fieldConflicts.contains("\(try ours(id))/summary"), "no summary conflict on \(id)")
        }
        // Concurrent splices of one body merge character by character: no conflict, both kept.
        for id in workload.conflicts.splice + workload.conflicts.splice_same_pos {
            #expect(!fieldConflicts.contains("\(try ours(id))/body"), "body of \(id) in conflict: concurrent splices should merge")
        }
        // And both laptops' text is in the merged body, where nobody else spliced the article.
        for id in workload.conflicts.splice + workload.conflicts.splice_same_pos {
            let article = try ours(id)
            let inserts = names.flatMap { reports[$0]!.spliceInserts[article] ?? [] }
            guard inserts.count == 2 else { continue }
            let body = try a.article(article).body
            for text in inserts where !text.isEmpty {
                #expect(body.contains(text), "«\(text)» spliced into \(id) is not in the merged body")
            }
        }
        for id in workload.conflicts.del_ann {
            let article = try a.article(try ours(id))
            #expect(article.trashed, "\(id) should be in the trash")
            #expect(trashConflicts.contains(article.id), "no trash conflict for \(id) (deleted on A while annotated on C)")
            #expect(!article.annotations.isEmpty, "C's annotations on \(id) were lost")
        }
        // Add-wins (rule 2): B's concurrent (re-)add of a tag A removed must survive.
        for pair in workload.conflicts.tag {
            let tags = try a.article(try ours(pair[0])).tags
            #expect(tags.contains(Tag.normalize(pair[1])), "tag \(pair[1]) removed on A but re-added on B did not survive on \(pair[0])")
        }
        print("[workload] conflicts: \(conflicts.fields.count) field, \(conflicts.trash.count) trash")

        // Figures for the issue (printed, not asserted).
        let splices = names.compactMap { reports[$0] }
        let ins = splices.reduce(0) { $0 + $1.spliceInsertedBytes }
        let del = splices.reduce(0) { $0 + $1.spliceDeletedBytes }
        let count = splices.reduce(0) { $0 + $1.bodySplices }
        let bodies = splices.reduce(0) { $0 + $1.spliceBodyBytes }
        let opBytes = splices.reduce(0) { $0 + $1.spliceOpBytes }
        let frameBytes = splices.reduce(0) { $0 + $1.spliceFrameBytes }
        for name in names {
            let store = stores[name]!
            let ops = try store.ops(since: afterBase, replica: store.replica)
            let size = ChangesetSize.marginalBytes(of: Set(reports[name]!.spliceOps), in: ops)
            print(
                "[workload] stream \(name): \(ops.count) ops = \(size.with) B compressed; without its \(reports[name]!.bodySplices) whole-body splice ops \(size.without) B (splices cost \(size.with - size.without) B for \(reports[name]!.spliceInsertedBytes) B inserted)"
            )
        }
        print(
            "[workload] splices: \(count) body.splice ops insert \(ins) B and delete \(del) B; as whole-body LWW they write \(bodies) B of body text = \(opBytes) B of encoded ops (\(frameBytes) B as single-op zlib frames)"
        )
    }

    // MARK: b) `synccli import` of 2,000 articles, through the real binary

    @Test func `synccli imports, searches, lists, shows and exports 2000 workload articles`() throws {
        let dir = try Fixture.temporaryDirectory("workload-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        var clock = Stopwatch()
        let workloadURL = try Fixture.generateWorkload(["--n", "2000", "--seed", "42"], in: dir)
        let jsonl = dir.appendingPathComponent("library.jsonl")
        try Fixture.run(
            "/usr/bin/env",
            [
                "python3", Fixture.repoRoot.appendingPathComponent("scripts/workload_to_jsonl.py").path,
                workloadURL.path, "-o", jsonl.path,
            ])
        let lines = try String(contentsOf: jsonl, encoding: .utf8).split(separator: "\n")
        let collections = lines.filter { $0.contains("\"type\":\"collection\"") }.count
        #expect(lines.count - collections == 2000)
        print("[cli] workload + JSONL (\(lines.count) lines, \(collections) collections) in \(clock.lap())")

        let cli = try Fixture.synccli()
        print("[cli] using \(cli.path)")
        let store = dir.appendingPathComponent("store.sqlite").path
        func synccli(_ args: String...) throws -> Data { try Fixture.run(cli.path, ["--store", store] + args) }

        _ = try synccli("init", "--name", "bench")
        let importReport = try JSONDecoder().decode(ImportReport.self, from: try synccli("import", jsonl.path, "--json"))
        #expect(importReport.articlesCreated == 2000)
        #expect(importReport.articlesExisting == 0)
        #expect(importReport.collections == collections)
        print("[cli] import: \(importReport.ops) ops in \(clock.lap())")

        let hits = try JSONDecoder().decode([SearchHit].self, from: try synccli("search", "غزة", "--json"))
        #expect(!hits.isEmpty)
        #expect(hits.allSatisfy { !$0.id.isEmpty && !$0.title.isEmpty })

        let listed = try JSONDecoder().decode([ArticleSummary].self, from: try synccli("list", "--json"))
        #expect(listed.count == 2000)
        #expect(Set(listed.map(\.id)).count == 2000)

        let id = try #require(hits.first?.id)
        let shown = try JSONDecoder().decode(Article.self, from: try synccli("show", id, "--json"))
        #expect(shown.id == id)
        #expect(!shown.body.isEmpty && !shown.title.isEmpty && !shown.tags.isEmpty)
        #expect(shown.url?.hasPrefix("https://news.example.org/ar/") == true)

        let exported = try synccli("export", "--format", "jsonl")
        let records = try Store.parseLibrary(exported)
        #expect(records.count == 2000 + collections)
        #expect(records.filter { $0.record.kind == .collection }.count == collections)
        #expect(exported.split(separator: UInt8(ascii: "\n")).count == 2000 + collections)
        print("[cli] search \(hits.count) hits, list \(listed.count), show, export \(exported.count) B in \(clock.lap())")
    }
}

// MARK: - Support

struct Stopwatch {
    var last = Date()
    mutating func lap() -> String {
        let now = Date()
        defer { last = now }
        return String(format: "%.2f s", now.timeIntervalSince(last))
    }
}

enum Fixture {
    /// The package root: this file is Tests/EndToEndTests/WorkloadTests.swift.
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The first line where two (large) texts differ, for a readable failure.
    static func firstDifference(_ a: String, _ b: String) -> String {
        let la = a.split(separator: "\n", omittingEmptySubsequences: false)
        let lb = b.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(la.count, lb.count) where i >= la.count || i >= lb.count || la[i] != lb[i] {
            let x = i < la.count ? String(la[i].prefix(300)) : "<end>", y = i < lb.count ? String(lb[i].prefix(300)) : "<end>"
            return "line \(i + 1):\n  \(x)\n  \(y)"
        }
        return "no difference"
    }

    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("articlesync-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs the workload generator with `arguments`; returns the JSON file it wrote.
    static func generateWorkload(_ arguments: [String], in dir: URL) throws -> URL {
        let env = ProcessInfo.processInfo.environment
        let generator =
            env["ARTICLESYNC_WORKLOAD_PY"].flatMap { $0.isEmpty ? nil : $0 }
            ?? repoRoot.appendingPathComponent("scripts/bench/workload.py").path
        var environment = env
        if (env["SEED_ARTICLE"] ?? "").isEmpty {
            environment["SEED_ARTICLE"] = repoRoot.appendingPathComponent("Tests/Fixtures/seed-article-ar.txt").path
        }
        let out = dir.appendingPathComponent("workload.json")
        try run("/usr/bin/env", ["python3", generator] + arguments + ["-o", out.path], environment: environment)
        return out
    }

    /// The `synccli` built with the tests: `$ARTICLESYNC_SYNCCLI`, else next to the test bundle
    /// (on Linux the test runner is `.build/<triple>/debug/<Package>PackageTests.xctest`, an
    /// executable in the products directory; on macOS a bundle in it), else `.build/debug`.
    static func synccli() throws -> URL {
        let env = ProcessInfo.processInfo.environment
        var candidates: [URL] = []
        if let path = env["ARTICLESYNC_SYNCCLI"], !path.isEmpty { candidates.append(URL(fileURLWithPath: path)) }
        let bundle = Bundle.main.bundleURL
        candidates += [bundle.appendingPathComponent("synccli"), bundle.deletingLastPathComponent().appendingPathComponent("synccli")]
        for test in Bundle.allBundles where test.bundlePath.hasSuffix(".xctest") {
            candidates.append(test.bundleURL.deletingLastPathComponent().appendingPathComponent("synccli"))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("synccli"))
        candidates.append(repoRoot.appendingPathComponent(".build/debug/synccli"))
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        throw FixtureError("synccli not found (tried \(candidates.map(\.path))): build it (`swift build`) or set ARTICLESYNC_SYNCCLI")
    }

    /// Runs a process to completion; returns its standard output, throws with its standard error
    /// on a non-zero exit. Output goes through files so a big export cannot fill a pipe.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Data {
        let dir = try temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close(); try err.close()
        let stdout = try Data(contentsOf: outURL)
        guard process.terminationStatus == 0 else {
            let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
            throw FixtureError(
                "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(stderr)")
        }
        return stdout
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
