import Foundation
import Testing

/// Runs the real `synccli` binary, the way a reporter (or a script) would.
///
/// ```swift
/// let dir = try Scratch()
/// let a = Laptop(dir.path("a.sqlite"))
/// try a.run("init").expect(0)
/// let id = try a.json("add", fixture, "--json")["id"] as! String
/// ```
///
/// ## Topics
/// - Locating the binary: ``CLI/binary`` (`$SYNCCLI_BIN`, the test bundle's directory, or
///   `<package>/.build/debug/synccli`)
/// - Running: ``CLI/run(_:stdin:env:timeout:)``, ``Laptop``
/// - Output: ``CLIResult``, ``CLIResult/json()``
enum CLI {
    /// The package root, found by walking up from this file to the directory holding Package.swift.
    static let packageRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The seed article: title, lead, then paragraphs, in Arabic.
    static let seedArticle = packageRoot.appendingPathComponent("Tests/SyncCoreTests/Fixtures/seed-article-ar.txt").path

    /// `$SYNCCLI_BIN`, else `synccli` next to the test bundle (same build configuration), else
    /// `<package>/.build/debug/synccli`.
    static let binary: String = {
        let fm = FileManager.default
        if let fromEnv = ProcessInfo.processInfo.environment["SYNCCLI_BIN"], !fromEnv.isEmpty { return fromEnv }
        var candidates: [URL] = []
        for exe in [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments.first ?? "")].compactMap({ $0 }) {
            var dir = exe.deletingLastPathComponent()
            // macOS: …/debug/ArticleSyncPackageTests.xctest/Contents/MacOS/ArticleSyncPackageTests
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("synccli"))
                dir.deleteLastPathComponent()
            }
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/synccli"))
        return candidates.first { fm.isExecutableFile(atPath: $0.path) }?.path
            ?? packageRoot.appendingPathComponent(".build/debug/synccli").path
    }()

    /// Runs `synccli args…`. The child gets a clean environment for the store (no inherited
    /// `$ARTICLESYNC_STORE` or clock offset, `$XDG_DATA_HOME` pointing nowhere useful) plus `env`.
    static func run(_ args: [String], stdin: Data? = nil, env: [String: String] = [:],
                    timeout: TimeInterval = 30) throws -> CLIResult {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("synccli-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for key in ["ARTICLESYNC_STORE", "ARTICLESYNC_CLOCK_OFFSET_MS", "SYNCCLI_BIN"] { environment[key] = nil }
        environment["XDG_DATA_HOME"] = scratch.appendingPathComponent("xdg").path
        environment.merge(env) { _, new in new }
        process.environment = environment

        // Files rather than pipes: no risk of a full pipe blocking the child.
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        defer { try? out.close(); try? err.close() }
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let inURL = scratch.appendingPathComponent("stdin")
            try stdin.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }

        let started = Date()
        try process.run()
        let deadline = started.addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
                throw CLIError.timedOut(args: args, seconds: timeout)
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return CLIResult(args: args, status: process.terminationStatus,
                         stdoutData: (try? Data(contentsOf: outURL)) ?? Data(),
                         stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self),
                         seconds: Date().timeIntervalSince(started))
    }
}

enum CLIError: Error, CustomStringConvertible {
    case timedOut(args: [String], seconds: TimeInterval)
    case notJSON(args: [String], output: String)
    case failed(CLIResult)

    var description: String {
        switch self {
        case .timedOut(let args, let seconds): "synccli \(args.joined(separator: " ")) still running after \(Int(seconds)) s"
        case .notJSON(let args, let output): "synccli \(args.joined(separator: " ")) did not print JSON:\n\(output)"
        case .failed(let r): "synccli \(r.args.joined(separator: " ")) exited \(r.status)\nstdout: \(r.stdout)\nstderr: \(r.stderr)"
        }
    }
}

/// What a run printed and how it ended.
struct CLIResult: CustomStringConvertible {
    let args: [String]
    let status: Int32
    let stdoutData: Data
    let stderr: String
    let seconds: TimeInterval

    var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    var description: String { "synccli \(args.joined(separator: " ")) → \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

    /// The `--json` output, parsed.
    func json() throws -> Any {
        do { return try JSONSerialization.jsonObject(with: stdoutData, options: [.fragmentsAllowed]) }
        catch { throw CLIError.notJSON(args: args, output: stdout + stderr) }
    }
    func object() throws -> [String: Any] {
        guard let o = try json() as? [String: Any] else { throw CLIError.notJSON(args: args, output: stdout) }
        return o
    }
    func array() throws -> [[String: Any]] {
        guard let a = try json() as? [[String: Any]] else { throw CLIError.notJSON(args: args, output: stdout) }
        return a
    }

    /// Throws (failing the test with the whole transcript) unless the exit status is `code`.
    @discardableResult
    func expect(_ code: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws -> CLIResult {
        #expect(status == code, "\(self)", sourceLocation: sourceLocation)
        if status != code && code == 0 { throw CLIError.failed(self) }
        return self
    }
}

/// A scratch directory removed when the value goes away.
final class Scratch: Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("articlesync-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ name: String, _ text: String) throws -> String {
        let p = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
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
