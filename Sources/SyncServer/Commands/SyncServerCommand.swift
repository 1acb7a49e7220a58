public import ArgumentParser
import Foundation
import ServerStorage
import ServerStoreSQLite
import SyncModel
import SyncServerKit

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

/// Runs an admin action on the backend the options name, turning a ServerStoreError into
/// "error: …" and exit status 1.
func adminAction(
    _ storage: StorageOptions, create: Bool = false,
    _ body: @Sendable (any ServerStore) async throws -> Void
) async throws {
    do {
        try await storage.backend().withStore(create: create, body)
    } catch let error as ServerStoreError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode.failure
    }
}

/// Library names: what goes in the URL, so a conservative alphabet.
func validateLibraryName(_ name: String) throws {
    let ok =
        (1...64).contains(name.utf8.count)
        && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        && !name.hasPrefix(".")
    guard ok else {
        throw ValidationError("a library name is 1–64 characters of A–Z a–z 0–9 . _ - (not starting with a dot), got \"\(name)\"")
    }
}
