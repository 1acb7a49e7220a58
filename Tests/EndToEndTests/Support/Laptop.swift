import Foundation
import SyncModel
import SyncStore
import SyncWire
import TestHarness
import Testing

// What the end-to-end suites add to the harness: a laptop as a reporter drives it (every call
// checked with `#expect`), and the server helpers that make one.

extension CLIResult {
    /// Throws (failing the test with the whole transcript) unless the exit status is `code`.
    @discardableResult
    func expect(_ code: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        #expect(status == code, "\(self)", sourceLocation: sourceLocation)
        if status != code && code == 0 { throw CLIError.failed(self) }
        return self
    }
}

/// One "laptop": a store file, optionally with a skewed clock. Every command gets `--store PATH`
/// before the subcommand (the root command accepts it there).
struct Laptop: Sendable {
    let store: String
    var env: [String: String] = [:]

    init(_ store: String, clockOffsetMillis: Int64? = nil) {
        self.store = store
        if let clockOffsetMillis { env["ARTICLESYNC_CLOCK_OFFSET_MS"] = String(clockOffsetMillis) }
    }

    @discardableResult
    func run(_ args: String..., stdin: Data? = nil) throws -> CLIResult {
        try CLI.run(["--store", store] + args, stdin: stdin, env: env)
    }

    /// Runs a command that must succeed and returns its parsed JSON output.
    func json(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> Any {
        try CLI.run(["--store", store] + args, env: env).expect(0, sourceLocation: sourceLocation).json()
    }
    func object(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try CLI.run(["--store", store] + args, env: env).expect(0, sourceLocation: sourceLocation).object()
    }
    func array(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        try CLI.run(["--store", store] + args, env: env).expect(0, sourceLocation: sourceLocation).array()
    }
    /// Runs a command that must succeed and returns its standard output.
    func ok(_ args: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try CLI.run(["--store", store] + args, env: env).expect(0, sourceLocation: sourceLocation).stdout
    }

    /// `export --format jsonl`: the whole library as text, the yardstick for "same state".
    func export() throws -> String { try ok("export", "--format", "jsonl") }
    /// `status --json`.
    func status() throws -> [String: Any] { try object("status", "--json") }
    /// What a failed command must leave alone: the op count and the full export.
    func snapshot() throws -> Snapshot {
        Snapshot(ops: try status()["ops"] as? Int ?? -1, export: try export())
    }
    /// `conflicts --json`, re-serialised with sorted keys.
    func conflicts() throws -> String { try ok("conflicts", "--json") }
}

struct Snapshot: Equatable {
    let ops: Int
    let export: String
}

extension ServerProcess {
    /// A laptop enrolled for this library: a store `<name>.sqlite` in `scratch`, `init`ed and
    /// pointed at this server with its own token.
    func laptop(_ scratch: Scratch, _ name: String, clockOffsetMillis: Int64? = nil, readOnly: Bool = false) throws -> (Laptop, EnrolledDevice) {
        try reservePort()
        let device = try enroll(name, readOnly: readOnly)
        let laptop = Laptop(scratch.path("\(name).sqlite"), clockOffsetMillis: clockOffsetMillis)
        try laptop.run("init", "--name", name).expect(0)
        try laptop.run("remote", "set", url, "--library", library, "--token", device.token).expect(0)
        return (laptop, device)
    }
}

extension Laptop {
    /// Starts `synccli agent` on this store (logs in `<store>.agent.log`); SIGKILLed when the
    /// returned value goes away if still running.
    func startAgent(_ args: [String], env extra: [String: String] = [:]) throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment
        for key in ["ARTICLESYNC_STORE", "ARTICLESYNC_CLOCK_OFFSET_MS", "ARTICLESYNC_FAILPOINTS"] { environment[key] = nil }
        environment.merge(env) { _, new in new }
        environment.merge(extra) { _, new in new }
        return try ChildProcess(
            name: "synccli agent", executable: CLI.binary,
            arguments: ["--store", store, "agent"] + args,
            environment: environment, logPath: store + ".agent.log")
    }
}
