import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct RemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "Configure the sync server this laptop talks to.",
        subcommands: [SetRemote.self, ShowRemote.self], defaultSubcommand: ShowRemote.self)

    struct SetRemote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Set the server URL, library and device token.",
            discussion: """
                The token is the one `syncserver device enroll` printed. It is stored in \
                <store>.token, readable only by you, never in the store itself. Plain http:// is \
                refused for anything but this machine (127.0.0.1, localhost) unless --insecure. \
                A sync in progress on this store (yours or the agent's) is waited for first.
                Example: synccli remote set https://sync.newsroom.example --library gaza-desk --token ast_…
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "Server URL, e.g. https://sync.newsroom.example") var url: String
        @Option(help: "Library name on the server.") var library: String
        @Option(help: "Device token (or - to read it from standard input, which keeps it out of shell history).") var token: String
        @Flag(help: "Allow plain http:// to a non-loopback host.") var insecure = false

        func run() async throws {
            try await guarded {
                let s = try store.open()
                var secret = token
                if token == "-" { secret = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
                let lock = try await SyncLock.acquire(for: s, wait: 120) { printError($0) }
                defer { lock.release() }
                try s.setRemote(Remote(url: url, library: library, insecure: insecure), token: secret)
                print("remote set: \(url) library \(library)")
            }
        }
    }

    struct ShowRemote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the configured remote (never the token).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await guarded {
                guard let r = try store.open().remote() else { throw SyncClientError(.config, "no remote configured: run `synccli remote set …`") }
                if output.json {
                    try printJSON(["url": r.url, "library": r.library, "insecure": r.insecure ? "yes" : "no"])
                } else {
                    print("\(r.url)  library \(r.library)\(r.insecure ? "  (insecure)" : "")")
                }
            }
        }
    }
}

/// Shared by push, pull and sync.
struct SyncOptions: ParsableArguments {
    @Option(help: "Attempts on network errors, 429 and 503 before giving up.") var attempts = 6
    @Option(help: "Seconds to wait for another sync on this store (e.g. the agent's) to finish.") var wait: Double = 120
}

/// Runs `body` holding the store's sync lock, saying so when it has to wait.
func withSyncLock<T>(_ store: StoreOptions, _ options: SyncOptions, _ body: () async throws -> T) async throws -> T {
    let lock = try await SyncLock.acquire(for: try store.open(), wait: options.wait) { printError($0) }
    defer { lock.release() }
    return try await body()
}

func makeClient(_ store: StoreOptions, _ options: SyncOptions) throws -> SyncClient {
    var client = try SyncClient(store: try store.open(), retry: RetryPolicy(maxAttempts: max(1, options.attempts)))
    let push = Progress(label: "pushing"), pull = Progress(label: "pulling")
    client.progress = { phase, done, total in (phase == "push" ? push : pull).update(done, total) }
    return client
}

struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send this laptop's changes to the server.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var sync: SyncOptions

    func run() async throws {
        try await guarded {
            let report = try await withSyncLock(store, sync) { try await makeClient(store, sync).push() }
            if output.json { return try printJSON(report) }
            print(
                report.opsSent == 0
                    ? "nothing to push (server has ops up to \(report.acked))"
                    : "pushed \(report.opsSent) ops in \(report.changesets) changeset(s), \(report.bytesSent) bytes")
        }
    }
}

struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fetch and merge everyone else's changes from the server.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var sync: SyncOptions

    func run() async throws {
        try await guarded {
            let report = try await withSyncLock(store, sync) { try await makeClient(store, sync).pull() }
            warnIfClockBehind(report.clockBehindMillis)
            if output.json { return try printJSON(report) }
            print(
                report.pages == 0
                    ? "up to date"
                    : "pulled \(report.opsApplied) new ops (\(report.opsReceived - report.opsApplied) already here) in \(report.pages) page(s), \(report.bytesReceived) bytes"
            )
        }
    }
}

struct Sync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull, push, pull: reconcile this laptop with the server.",
        discussion: """
            Pulls what others pushed, pushes this laptop's changes, and pulls once more only if it \
            pushed something (what others pushed meanwhile): when nothing changed, a sync is one \
            request. The server never sends this laptop its own changes back.

            Safe to interrupt and re-run: pulled pages are applied atomically with their cursor, and \
            pushed ops are kept until the server acknowledges them.

            A laptop whose clock is behind still syncs: changes the server accepted are applied \
            even when they are stamped ahead of this laptop's clock by more than the store's bound \
            (10 minutes), this laptop's own changes are stamped after them, and a warning on \
            standard error says to check the clock.
            """
    )
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var sync: SyncOptions

    func run() async throws {
        try await guarded {
            let client = try makeClient(store, sync)
            let (first, pushed, second) = try await withSyncLock(store, sync) { try await client.sync() }
            struct Report: Encodable { let pull: PullReport; let push: PushReport; let pullAgain: PullReport; let conflicts: Int }
            let conflicts = try client.store.conflicts().count
            warnIfClockBehind(max(first.clockBehindMillis, second.clockBehindMillis))
            if output.json { return try printJSON(Report(pull: first, push: pushed, pullAgain: second, conflicts: conflicts)) }
            print(
                "pulled \(first.opsApplied + second.opsApplied) new ops, pushed \(pushed.opsSent); \(conflicts) conflict(s)\(conflicts > 0 ? " (see `synccli conflicts`)" : "")"
            )
        }
    }
}

/// Says on standard error (never in the JSON on standard output) that this laptop's clock is
/// behind the changes the server sent.
func warnIfClockBehind(_ millis: UInt64) {
    guard millis > 0 else { return }
    printError(
        "warning: changes from the server are stamped up to \(millis / 1000) s ahead of this laptop's clock: "
            + "this laptop's clock is probably behind (check its time sync). They were applied, and this laptop's "
            + "changes are stamped after them.")
}
