import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

/// Exit codes (sysexits.h), mapped in one place.
enum Exit {
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let unavailable: Int32 = 69
    static let cantCreate: Int32 = 73
    static let ioError: Int32 = 74
    static let tempFail: Int32 = 75
    static let noPermission: Int32 = 77
    static let config: Int32 = 78

    static func code(for error: StoreError) -> Int32 {
        switch error.code {
        case .notInitialized: config
        case .alreadyExists: cantCreate
        case .notFound, .invalidInput, .invalidData, .trashed, .futureTimestamp: dataError
        case .locked: tempFail
        case .unreadable: ioError
        }
    }
}

extension Exit {
    static func code(for error: SyncClientError) -> Int32 {
        switch error.code {
        case .config: config
        case .unavailable: unavailable
        case .retryLater: tempFail
        case .denied: noPermission
        case .rejected: dataError
        case .protocolError: 76  // EX_PROTOCOL
        }
    }
}

/// A failure the CLI reports itself: message on stderr, then exit with `code`.
struct CLIFailure: Error {
    let code: Int32
    let message: String
    init(_ code: Int32, _ message: String) { self.code = code; self.message = message }
}

/// Runs a command body, turning every known error into a one-line message and an exit code.
func guarded<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as StoreError {
        printError(e.reason)
        throw ExitCode(Exit.code(for: e))
    } catch let e as ChangesetError {
        printError("changeset refused: \(e.reason)")
        throw ExitCode(Exit.dataError)
    } catch let e as SyncClientError {
        printError(e.reason)
        throw ExitCode(Exit.code(for: e))
    } catch let e as CLIFailure {
        printError(e.message)
        throw ExitCode(e.code)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("synccli: \(message)\n".utf8))
}

/// Prints a value as JSON (sorted keys, Arabic kept as UTF-8).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    writeOutput(try encoder.encode(value) + Data("\n".utf8))
}

/// Writes to standard output. When the reader has gone (`synccli list --json | head`), the
/// command ends the way Unix tools do on a closed pipe, silently by SIGPIPE (status 141), instead
/// of crashing on the write error; anything it changed is already committed.
func writeOutput(_ data: Data) {
    do {
        try FileHandle.standardOutput.write(contentsOf: data)
    } catch {
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        exit(141)  // SIGPIPE was blocked: the same status
    }
}

/// Progress on stderr when it is a terminal; silent in pipes and logs.
struct Progress: Sendable {
    let label: String
    let enabled = isatty(STDERR_FILENO) == 1

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let percent = done * 100 / total
        FileHandle.standardError.write(Data("\r\(label): \(done)/\(total) (\(percent)%)".utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// Reads a file argument (`-` for stdin) with a clear error when it is missing.
func readInput(_ path: String?) throws -> Data {
    if path == nil || path == "-" {
        return FileHandle.standardInput.readDataToEndOfFile()
    }
    let path = path!
    guard FileManager.default.fileExists(atPath: path) else {
        throw CLIFailure(Exit.noInput, "no such file: \(path)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIFailure(Exit.noInput, "cannot read \(path): check its permissions")
    }
    return data
}

func short(_ id: String) -> String { String(id.prefix(12)) }

func oneLine(_ s: String, max: Int = 70) -> String {
    let flat = s.replacingOccurrences(of: "\n", with: " ")
    return flat.count > max ? String(flat.prefix(max)) + "…" : flat
}
