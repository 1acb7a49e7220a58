import ArgumentParser
import Foundation
import SyncCore

/// `--store`, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Path of the store file.",
        discussion: "Defaults to $ARTICLESYNC_STORE, else $XDG_DATA_HOME/articlesync/store.sqlite.",
        valueName: "path"))
    var store: String?

    var path: String {
        if let store { return store }
        let env = ProcessInfo.processInfo.environment
        if let fromEnv = env["ARTICLESYNC_STORE"], !fromEnv.isEmpty { return fromEnv }
        let dataHome = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".local/share")
        return (dataHome as NSString).appendingPathComponent("articlesync/store.sqlite")
    }

    func open() throws -> Store { try Store.open(at: path) }
}

/// `--json`, on every command that prints data.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false
}
