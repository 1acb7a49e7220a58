public import Foundation

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
public enum CLI {
    /// The package root, found by walking up from this file to the directory holding Package.swift.
    public static let packageRoot: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { return dir }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// The seed article: title, lead, then paragraphs, in Arabic.
    public static let seedArticle = packageRoot.appendingPathComponent("Tests/Fixtures/seed-article-ar.txt").path

    /// `$SYNCCLI_BIN`, else `synccli` next to the test bundle (same build configuration), else
    /// `<package>/.build/debug/synccli`.
    public static let binary: String = {
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
    public static func run(
        _ args: [String], stdin: Data? = nil, env: [String: String] = [:],
        timeout: TimeInterval = 30, executable: String = binary
    ) throws -> CLIResult {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("synccli-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
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
        return CLIResult(
            args: args, status: process.terminationStatus,
            stdoutData: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self),
            seconds: Date().timeIntervalSince(started))
    }
}

extension CLI {
    /// Runs `script` with bash (`$0`, `$1`… are `arguments`), in the same clean environment as
    /// ``run(_:stdin:env:timeout:executable:)``: for what only a shell shows, such as a pipe.
    public static func runShell(_ script: String, arguments: [String], env: [String: String] = [:]) throws -> CLIResult {
        try run(["-c", script] + arguments, env: env, executable: "/bin/bash")
    }
}

public enum CLIError: Error, CustomStringConvertible {
    case timedOut(args: [String], seconds: TimeInterval)
    case notJSON(args: [String], output: String)
    case failed(CLIResult)

    public var description: String {
        switch self {
        case .timedOut(let args, let seconds): "synccli \(args.joined(separator: " ")) still running after \(Int(seconds)) s"
        case .notJSON(let args, let output): "synccli \(args.joined(separator: " ")) did not print JSON:\n\(output)"
        case .failed(let r): "synccli \(r.args.joined(separator: " ")) exited \(r.status)\nstdout: \(r.stdout)\nstderr: \(r.stderr)"
        }
    }
}

/// What a run printed and how it ended.
public struct CLIResult: CustomStringConvertible, Sendable {
    public let args: [String]
    public let status: Int32
    public let stdoutData: Data
    public let stderr: String
    public let seconds: TimeInterval

    public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    public var description: String { "synccli \(args.joined(separator: " ")) → \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

    /// The `--json` output, parsed.
    public func json() throws -> Any {
        do { return try JSONSerialization.jsonObject(with: stdoutData, options: [.fragmentsAllowed]) } catch {
            throw CLIError.notJSON(args: args, output: stdout + stderr)
        }
    }
    public func object() throws -> [String: Any] {
        guard let o = try json() as? [String: Any] else { throw CLIError.notJSON(args: args, output: stdout) }
        return o
    }
    public func array() throws -> [[String: Any]] {
        guard let a = try json() as? [[String: Any]] else { throw CLIError.notJSON(args: args, output: stdout) }
        return a
    }

}
