import Foundation
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

/// What only changeset files can get wrong (the merge stories themselves run over both
/// transports in MergeStoryTests): a damaged file is refused whole, duplicates and order do not
/// matter, an up-to-date laptop's export applies as a no-op.
@Suite("Changeset files between laptops")
struct ChangesetFileTests {
    static func title(_ l: Laptop, _ id: String) throws -> String? { try l.object("show", id, "--json")["title"] as? String }

    // MARK: - Rule 4 and the file format: bad files, duplicates, order

    @Test func `a truncated or corrupted changeset is refused whole; duplicates and order do not matter`() throws {
        let office = try Office(.changesetFiles)
        let (a, b, c) = (office.a, office.b, office.c)
        let id = try office.sharedSeed("--tag", "one")

        // Concurrent work on A and B, each exported as one file.
        try a.run("edit", id, "--title", "A's title").expect(0)
        try a.run("tag", "add", id, "two").expect(0)
        try a.run("highlight", id, "--quote", "مخيم المغازي").expect(0)
        try a.run("collection", "create", "Desk").expect(0)
        try a.run("collection", "add", "Desk", id).expect(0)
        try b.run("edit", id, "--title", "B's title", "--star").expect(0)
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
        let bad: [(String, Data)] = [
            ("truncated", good.prefix(good.count * 2 / 3)), ("flipped", flipped),
            ("garbage", Data("not a changeset\n".utf8)),
            ("cut-header", good.prefix(5)),
        ]
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
        let office = try Office(.changesetFiles)
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
        let office = try Office(.changesetFiles)
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
