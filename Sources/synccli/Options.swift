import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

/// `--store`, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Path of the store file.",
            discussion: """
                Defaults to $ARTICLESYNC_STORE, else $XDG_DATA_HOME/articlesync/store.sqlite. \
                For tests and demos, $ARTICLESYNC_CLOCK_OFFSET_MS (signed milliseconds, e.g. 3600000 or \
                -90000) is added to this laptop's wall clock, to play a laptop whose clock is wrong.
                """,
            valueName: "path"))
    var store: String?

    var path: String {
        if let store { return store }
        let env = ProcessInfo.processInfo.environment
        if let fromEnv = env["ARTICLESYNC_STORE"], !fromEnv.isEmpty { return fromEnv }
        let dataHome =
            env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".local/share")
        return (dataHome as NSString).appendingPathComponent("articlesync/store.sqlite")
    }

    func open() throws -> Store { try Store.open(at: path, now: try Self.clock()) }

    /// The wall clock in milliseconds, shifted by $ARTICLESYNC_CLOCK_OFFSET_MS when it is set.
    static func clock() throws -> @Sendable () -> UInt64 {
        guard let text = ProcessInfo.processInfo.environment["ARTICLESYNC_CLOCK_OFFSET_MS"], !text.isEmpty else {
            return Store.systemClock
        }
        guard let offset = Int64(text.trimmingCharacters(in: .whitespaces)) else {
            throw CLIFailure(Exit.config, "ARTICLESYNC_CLOCK_OFFSET_MS must be a signed number of milliseconds, not '\(text)'")
        }
        return {
            let shifted = Int64(clamping: Store.systemClock()).addingReportingOverflow(offset)
            return shifted.overflow ? Store.systemClock() : UInt64(max(0, shifted.partialValue))
        }
    }
}

/// `--json`, on every command that prints data.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false
}

/// `--store` and the article a command is about.
struct ArticleArgument: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Argument(help: "Article id, or a unique prefix of at least 4 characters.") var id: String

    /// The open store and the article's full id.
    func resolve() throws -> (store: Store, id: String) {
        let s = try store.open()
        return (s, try s.resolveArticleID(id))
    }
}

/// An article and the tags to give it or take from it.
struct ArticleTags: ParsableArguments {
    @OptionGroup var article: ArticleArgument
    @Argument(help: "Tags.") var tags: [String]

    func validate() throws { if tags.isEmpty { throw ValidationError("give at least one tag") } }
}

/// A collection and the articles to put in it or take out of it.
struct CollectionArticles: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Argument(help: "Collection id, id prefix or name.") var collection: String
    @Argument(help: "Article ids or prefixes.") var articles: [String]

    func validate() throws { if articles.isEmpty { throw ValidationError("give at least one article") } }

    /// The open store, the collection's id and the articles' full ids.
    func resolve() throws -> (store: Store, collection: String, articles: [String]) {
        let s = try store.open()
        return (s, try s.resolveCollectionID(collection), try articles.map { try s.resolveArticleID($0) })
    }
}
