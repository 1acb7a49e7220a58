import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

@main
struct SyncCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synccli",
        abstract: "An offline-first article library for reporters, synced through an ArticleSync server.",
        discussion: """
            Capture articles, organise them in collections, tag them, highlight passages and write \
            notes with no network. Every change is recorded as an op; `changeset` commands and \
            `push`/`pull`/`sync` exchange ops with other laptops, which all converge to the same library.

            The store is a single SQLite file: --store PATH, or $ARTICLESYNC_STORE, or \
            $XDG_DATA_HOME/articlesync/store.sqlite (~/.local/share/articlesync/store.sqlite).

            Exit codes: 0 ok, 1 failure, 64 usage, 65 bad input data, 66 missing input file, \
            69 server unavailable, 73 cannot create, 74 I/O error, 75 retry later (store locked, \
            server busy), 76 protocol error (the server's reply makes no sense), 77 permission \
            denied, 78 configuration (no store, no remote); 141 (SIGPIPE) when the reader of its \
            output went away (`synccli list --json | head`), as for any Unix tool.
            """,
        version: SyncCoreVersion.string,
        subcommands: [
            Init.self, Add.self, Import.self, List.self, Show.self, Edit.self, Tag.self, CollectionCommand.self,
            Highlight.self, Note.self, AnnotationCommand.self, Trash.self, Restore.self, Search.self, Log.self,
            Export.self, Status.self, Conflicts.self, Doctor.self, ChangesetCommand.self,
            RemoteCommand.self, Push.self, Pull.self, Sync.self, Agent.self,
        ]
    )

    /// Lets `--store PATH` also come before the subcommand (`synccli --store a.sqlite list`),
    /// which argument-parser does not support for options declared on subcommands.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        while let first = arguments.first, first == "--store" || first.hasPrefix("--store=") {
            arguments.removeFirst()
            var value: String?
            if first == "--store" {
                if !arguments.isEmpty { value = arguments.removeFirst() }
            } else {
                value = String(first.dropFirst("--store=".count))
            }
            guard let value, !value.isEmpty else {
                printError("--store needs a path")
                Foundation.exit(Exit.usage)
            }
            setenv("ARTICLESYNC_STORE", value, 1)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
