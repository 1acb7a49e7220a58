import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the store, or rebuild everything from the op log.",
        discussion:
            "Without options: SQLite integrity check. --rebuild re-derives the library, merge state and search index from the op log alone (the op log is the source of truth)."
    )

    @OptionGroup var store: StoreOptions
    @Flag(help: "Rebuild all derived tables from the op log.") var rebuild = false

    func run() async throws {
        try await guarded {
            let s = try store.open()
            let integrity = try s.integrityCheck()
            guard integrity == "ok" else { throw CLIFailure(Exit.ioError, "integrity check failed:\n\(integrity)") }
            if rebuild {
                let before = try s.canonicalDump()
                try s.rebuild()
                let after = try s.canonicalDump()
                print(before == after ? "rebuilt from the op log: state unchanged" : "rebuilt from the op log: derived state was repaired")
            } else {
                print("integrity ok")
            }
        }
    }
}
