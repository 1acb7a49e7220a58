import ArgumentParser
import Foundation

/// `syncserver`: run the sync server, and administer its libraries, devices and epoch. Admin
/// commands are safe while the server runs (SQLite WAL); the server reads devices per request,
/// so an enrolment or a revocation counts at once.
public struct SyncServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "syncserver",
        abstract: "The ArticleSync sync server.",
        discussion: """
            Start with `syncserver library create NAME --data DIR`, enrol each laptop with
            `syncserver device enroll --library NAME --name LAPTOP --data DIR`, then run
            `syncserver serve --data DIR`. See docs/OPERATIONS.md.
            """,
        subcommands: [Serve.self, LibraryCommand.self, DeviceCommand.self, EpochCommand.self])

    public init() {}
}

/// `--data DIR`, shared by the admin commands (environment `ARTICLESYNC_DATA` as a fallback).
struct DataOption: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp("The server's data directory.", valueName: "DIR"))
    var data: String?

    func directory() throws -> String {
        if let data { return data }
        if let data = ProcessInfo.processInfo.environment["ARTICLESYNC_DATA"] { return data }
        throw ValidationError("say where the data directory is: --data DIR (or ARTICLESYNC_DATA)")
    }

    func open(create: Bool = false) throws -> SQLiteServerStore {
        try SQLiteServerStore.open(dataDirectory: try directory(), create: create)
    }
}

/// Runs an admin action, turning a StoreError into "error: …" and exit status 1.
func adminAction(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as StoreError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode.failure
    }
}

/// Library names: what goes in the URL, so a conservative alphabet.
func validateLibraryName(_ name: String) throws {
    let ok = (1...64).contains(name.utf8.count)
        && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        && !name.hasPrefix(".")
    guard ok else {
        throw ValidationError("a library name is 1–64 characters of A–Z a–z 0–9 . _ - (not starting with a dot), got \"\(name)\"")
    }
}
