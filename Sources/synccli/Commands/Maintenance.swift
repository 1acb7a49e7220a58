import ArgumentParser
import Foundation
import SyncCore

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the library as JSON Lines (round-trips through `import`) or Markdown.")

    @OptionGroup var store: StoreOptions
    @Option(help: "jsonl or markdown.") var format = "jsonl"
    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output.") var outputFile: String?

    func run() async throws {
        try await guarded {
            guard ["jsonl", "markdown"].contains(format) else {
                throw CLIFailure(Exit.usage, "unknown format '\(format)': use jsonl or markdown")
            }
            let s = try store.open()
            let out: FileHandle
            let temporary = outputFile.map { $0 + ".partial" }
            if let temporary {
                guard FileManager.default.createFile(atPath: temporary, contents: nil),
                      let handle = FileHandle(forWritingAtPath: temporary) else {
                    throw CLIFailure(Exit.cantCreate, "cannot write \(outputFile!)")
                }
                out = handle
            } else {
                out = FileHandle.standardOutput
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if format == "jsonl" {
                try s.exportRecords { record in
                    out.write(try encoder.encode(record))
                    out.write(Data("\n".utf8))
                }
            } else {
                try s.exportMarkdown { out.write(Data($0.utf8)) }
            }
            if let temporary, let outputFile {
                try out.close()
                // Write then rename: an interrupted export never leaves a truncated file behind.
                _ = try? FileManager.default.removeItem(atPath: outputFile)
                try FileManager.default.moveItem(atPath: temporary, toPath: outputFile)
            }
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the store: replica, counts, conflicts and sync state.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await guarded {
            let s = try store.open()
            let report = try StatusReport.make(s)
            if output.json { return try printJSON(report) }
            print("store    \(report.path)")
            print("replica  \(report.replica) (\(report.name))")
            print("library  \(report.articles) articles, \(report.trashed) in the trash, \(report.collections) collections, \(report.annotations) annotations, \(report.tags) tags")
            print("ops      \(report.ops) in the log, \(report.ownOps) made here")
            print("seen     \(report.versionVector.isEmpty ? "-" : report.versionVector)")
            print("conflicts \(report.conflicts)\(report.conflicts > 0 ? " (see `synccli conflicts`)" : "")")
            guard let remote = report.remote else { return print("remote   none (`synccli remote set` to sync through a server)") }
            print("remote   \(remote) library \(report.library ?? "")\(report.epoch.map { ", server epoch \($0)" } ?? "")")
            if report.pending == 0 {
                print("sync     all your work is on the server\(report.ackedAt.map { " as of \($0)" } ?? "")")
            } else {
                print("sync     \(report.pending) op(s) waiting to be pushed\(report.ackedAt.map { "; last acknowledged \($0)" } ?? "")")
            }
            print("last sync \(report.lastSync ?? "never")")
            if let error = report.lastError { print("last error \(error)") }
            print("agent    \(report.agentPID.map { "running (pid \($0))" } ?? "not running (`synccli agent`, or see README: run it as a user service)")")
        }
    }
}

struct StatusReport: Encodable {
    var path: String
    var replica: String
    var name: String
    var articles: Int
    var trashed: Int
    var collections: Int
    var annotations: Int
    var tags: Int
    var ops: Int
    var ownOps: UInt64
    var versionVector: String
    var conflicts: Int
    var remote: String?
    var library: String?
    var epoch: String?
    var acked: UInt64 = 0
    var pending: UInt64 = 0
    var ackedAt: String?
    var lastSync: String?
    var lastError: String?
    /// pid of the running `synccli agent`, if any.
    var agentPID: Int32?

    static func time(_ meta: String?) -> String? { meta.flatMap { UInt64($0) }.map(Store.isoTime) }

    static func make(_ s: Store) throws -> StatusReport {
        let c = try s.counts()
        let vv = try s.versionVector()
        var report = StatusReport(path: s.path, replica: s.replica.description, name: try s.name(), articles: c["articles"] ?? 0,
                            trashed: c["trashed"] ?? 0, collections: c["collections"] ?? 0, annotations: c["annotations"] ?? 0,
                            tags: c["tags"] ?? 0, ops: c["ops"] ?? 0, ownOps: vv[s.replica], versionVector: vv.text,
                            conflicts: try s.conflicts().count)
        report.agentPID = AgentPIDFile(store: s).running()
        if let remote = try s.remote() {
            report.remote = remote.url
            report.library = remote.library
            report.epoch = try s.meta("sync.epoch")
            report.acked = UInt64(try s.meta("sync.acked") ?? "0") ?? 0
            report.pending = report.ownOps - min(report.ownOps, report.acked)
            report.ackedAt = time(try s.meta("sync.acked_at"))
            report.lastSync = time(try s.meta("sync.last_success"))
            if let error = try s.meta("sync.last_error") {
                let parts = error.split(separator: " ", maxSplits: 1)
                report.lastError = parts.count == 2 ? "\(time(String(parts[0])) ?? ""): \(parts[1])" : error
            }
        }
        return report
    }
}

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the store, or rebuild everything from the op log.",
        discussion: "Without options: SQLite integrity check. --rebuild re-derives the library, merge state and search index from the op log alone (the op log is the source of truth).")

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

struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and resolve conflicts.",
        discussion: """
            A conflict is a field edited concurrently on two laptops (the later edit is shown; the \
            other value is kept here), or an article moved to the trash while someone else worked \
            on it. Resolving is itself a change that syncs to everyone.
            """,
        subcommands: [ListConflicts.self, ShowConflicts.self, Resolve.self],
        defaultSubcommand: ListConflicts.self)

    struct ListConflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List all conflicts.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await guarded { try Conflicts.render(try store.open().conflicts(), json: output.json) }
        }
    }

    struct ShowConflicts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Conflicts of one article.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Article id or prefix.") var id: String

        func run() async throws {
            try await guarded {
                let s = try store.open()
                try Conflicts.render(try s.conflicts(article: try s.resolveArticleID(id)), json: output.json)
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve a conflict by choosing a value.",
            discussion: """
                synccli conflicts resolve ID FIELD --keep OP     keep one of the listed values
                synccli conflicts resolve ID FIELD --value TEXT  set a new value
                synccli conflicts resolve ID --keep-trashed      keep a trashed article in the trash
                (or `synccli restore ID` to settle a trash conflict by restoring)
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The article, collection or annotation id shown by `conflicts`.") var id: String
        @Argument(help: "The field in conflict.") var field: String?
        @Option(help: "The op (replica:counter) whose value to keep.") var keep: String?
        @Option(help: "A new value.") var value: String?
        @Flag(help: "Keep the article in the trash, having seen the concurrent work.") var keepTrashed = false

        func validate() throws {
            if keepTrashed { if field != nil || keep != nil || value != nil { throw ValidationError("--keep-trashed takes only the article id") } }
            else if field == nil || (keep == nil) == (value == nil) { throw ValidationError("give FIELD and exactly one of --keep OP or --value TEXT") }
        }

        func run() async throws {
            try await guarded {
                let s = try store.open()
                if keepTrashed {
                    let article = try s.resolveArticleID(id)
                    try s.confirmTrash(article)
                    print("kept \(article) in the trash")
                } else {
                    try s.resolveConflict(entity: id, field: field!, keep: keep, value: value)
                    print("resolved \(field!) of \(id)")
                }
            }
        }
    }

    static func render(_ c: SyncCore.Conflicts, json: Bool) throws {
        if json { return try printJSON(c) }
        if c.count == 0 { Swift.print("no conflicts"); return }
        for f in c.fields {
            Swift.print("\(f.kind) \(f.entity) · \(f.field)")
            Swift.print("  current  \(f.current.op)  \(f.current.time)  \(oneLine(f.current.value))")
            for l in f.losers { Swift.print("  lost     \(l.op)  \(l.time)  \(oneLine(l.value))") }
        }
        for t in c.trash { Swift.print("article \(t.article) · \(oneLine(t.title, max: 40))\n  \(t.reason)") }
    }
}
