import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and resolve conflicts.",
        discussion: """
            A conflict is a field edited concurrently on two laptops (the later edit is shown; the \
            other value is kept here), or an article moved to the trash while someone else worked \
            on it, or a highlight whose words were all deleted from the body (kept, marked \
            detached). Resolving is itself a change that syncs to everyone.
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
        @OptionGroup var article: ArticleArgument
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await guarded {
                let (s, id) = try article.resolve()
                try Conflicts.render(try s.conflicts(article: id), json: output.json)
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
            if keepTrashed {
                if field != nil || keep != nil || value != nil { throw ValidationError("--keep-trashed takes only the article id") }
            } else if field == nil || (keep == nil) == (value == nil) {
                throw ValidationError("give FIELD and exactly one of --keep OP or --value TEXT")
            }
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

    static func render(_ c: SyncStore.Conflicts, json: Bool) throws {
        if json { return try printJSON(c) }
        if c.count == 0 { Swift.print("no conflicts"); return }
        for f in c.fields {
            Swift.print("\(f.kind) \(f.entity) · \(f.field)")
            Swift.print("  current  \(f.current.op)  \(f.current.time)  \(oneLine(f.current.value))")
            for l in f.losers { Swift.print("  lost     \(l.op)  \(l.time)  \(oneLine(l.value))") }
        }
        for t in c.trash { Swift.print("article \(t.article) · \(oneLine(t.title, max: 40))\n  \(t.reason)") }
        for d in c.detached {
            Swift.print("highlight \(d.annotation) on article \(d.article) · \(oneLine(d.title, max: 40))")
            Swift.print(
                "  detached: «\(oneLine(d.exact))» was deleted from the body (it stood at \(d.position)); `synccli annotation remove \(d.annotation)` drops it"
            )
        }
    }
}
