import Foundation
import TestHarness
import Testing

/// Stores of this version read what wave-1 stores wrote. `Tests/Fixtures/wave1-library.ascs` is a
/// changeset file (format 1) written by the wave-1 `synccli changeset export`, from two laptops
/// whose edits cover every op kind and both kinds of conflict; next to it, what that synccli's
/// `export --format jsonl` and `conflicts --json` said after applying it
/// (`scripts/make-wave1-fixture.sh` made all three).
@Suite struct Wave1CompatibilityTests {
    static func fixture(_ name: String) -> String { CLI.packageRoot.appendingPathComponent("Tests/Fixtures/\(name)").path }

    /// The laptop holds the library and the conflicts the wave-1 synccli showed; returns the export.
    static func expectWave1Library(on laptop: Laptop, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let expected = try String(contentsOfFile: fixture("wave1-library.jsonl"), encoding: .utf8)
        #expect(try laptop.export() == expected, sourceLocation: sourceLocation)
        // This version also lists detached highlights (none here): a key wave 1 did not have.
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(try laptop.conflicts().utf8)) as? [String: Any])
        #expect((listed["detached"] as? [Any])?.isEmpty == true, sourceLocation: sourceLocation)
        let conflicts = listed.filter { $0.key != "detached" } as NSDictionary
        let expectedConflicts =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: fixture("wave1-library.conflicts.json")))) as? NSDictionary
        #expect(conflicts == expectedConflicts, sourceLocation: sourceLocation)
        return expected
    }

    @Test func `a changeset file written by a wave-1 synccli applies to the same library and the same conflicts`() throws {
        let dir = try Scratch()
        let laptop = Laptop(dir.path("new.sqlite"))
        try laptop.run("init", "--name", "Nadia").expect(0)
        let inspected = try laptop.array("changeset", "inspect", "--json", Self.fixture("wave1-library.ascs"))
        #expect(inspected.count == 2, "one frame per wave-1 laptop")
        let applied = try laptop.object("changeset", "apply", "--json", Self.fixture("wave1-library.ascs"))
        #expect(applied["applied"] as? Int == 20)
        let expected = try Self.expectWave1Library(on: laptop)
        // Re-exported by this version (format 2) and applied again elsewhere: still the same library.
        let again = Laptop(dir.path("again.sqlite"))
        try again.run("init").expect(0)
        try laptop.run("changeset", "export", "-o", dir.path("v2.ascs")).expect(0)
        try again.run("changeset", "apply", dir.path("v2.ascs")).expect(0)
        #expect(try again.export() == expected)
    }

    @Test func `a wave-1 store file opens, migrates its op log to the op envelope and shows the same library`() throws {
        let dir = try Scratch()
        try FileManager.default.copyItem(atPath: Self.fixture("wave1-store.sqlite3"), toPath: dir.path("old.sqlite"))
        let laptop = Laptop(dir.path("old.sqlite"))
        let expected = try Self.expectWave1Library(on: laptop)
        // The migrated op log is the source of truth: rebuilding from it changes nothing.
        #expect(try laptop.ok("doctor", "--rebuild").contains("state unchanged"))
        #expect(try laptop.array("log", "--json", "--limit", "100").count == 20)
        // And what it exports now is format 2, which another store applies to the same library.
        try laptop.run("changeset", "export", "-o", dir.path("all.ascs")).expect(0)
        #expect(try laptop.array("changeset", "inspect", "--json", dir.path("all.ascs")).count == 2)
        let other = Laptop(dir.path("other.sqlite"))
        try other.run("init").expect(0)
        try other.run("changeset", "apply", dir.path("all.ascs")).expect(0)
        #expect(try other.export() == expected)
    }
}
