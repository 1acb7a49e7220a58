import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Edit an article's fields or reading state.",
        discussion:
            "The body merges character by character: --body-file sends only the passages that changed, and two laptops correcting different (or the same) passages offline both keep their corrections; highlights move with their words. Concurrent edits of any other field resolve to the later edit; the other value is kept in `synccli conflicts`. Examples: synccli edit 3f2a --title \"…\" --star; synccli show 3f2a --json | jq -r .body > b.txt; (edit b.txt); synccli edit 3f2a --body-file b.txt"
    )

    @OptionGroup var article: ArticleArgument
    @Option var title: String?
    @Option var summary: String?
    @Option(help: "Change the body to the contents of this file (- for stdin); only the differences are sent.") var bodyFile: String?
    @Option var url: String?
    @Option var source: String?
    @Option var byline: String?
    @Option var published: String?
    @Option var lang: String?
    @Flag var reading: Reading?
    @Flag var starring: Starring?

    enum Reading: String, EnumerableFlag {
        case read, unread
        static func help(for value: Reading) -> ArgumentHelp? { value == .read ? "Mark as read." : "Mark as unread." }
    }

    enum Starring: String, EnumerableFlag {
        case star, unstar
        static func help(for value: Starring) -> ArgumentHelp? { value == .star ? "Star the article." : "Remove its star." }
    }

    func run() async throws {
        try await guarded {
            let (s, articleID) = try article.resolve()
            var changes: [(Field, String)] = []
            if let title { changes.append((ArticleFields.title, title)) }
            if let summary { changes.append((ArticleFields.summary, summary)) }
            if let bodyFile {
                guard let body = String(data: try readInput(bodyFile), encoding: .utf8) else {
                    throw CLIFailure(Exit.dataError, "the body is not UTF-8 text")
                }
                changes.append((ArticleFields.body, body))
            }
            if let url { changes.append((ArticleFields.url, url)) }
            if let source { changes.append((ArticleFields.source, source)) }
            if let byline { changes.append((ArticleFields.byline, byline)) }
            if let published { changes.append((ArticleFields.publishedAt, published)) }
            if let lang { changes.append((ArticleFields.language, lang)) }
            guard !changes.isEmpty || reading != nil || starring != nil else {
                throw CLIFailure(Exit.usage, "nothing to edit: give --title, --summary, --body-file, … (see --help)")
            }
            if !changes.isEmpty { try s.editArticle(articleID, changes) }
            if let reading { try s.setFlag(ArticleFields.read, reading == .read, article: articleID) }
            if let starring { try s.setFlag(ArticleFields.starred, starring == .star, article: articleID) }
            print("edited \(articleID)")
        }
    }
}

struct Trash: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move an article to the trash (restorable with `restore`).",
        discussion: "If a colleague works on the article concurrently, their work is kept and the article is reported in `synccli conflicts`.")
    @OptionGroup var article: ArticleArgument

    func run() async throws {
        try await guarded {
            let (s, id) = try article.resolve()
            try s.trash(id)
            print("moved \(id) to the trash")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take an article out of the trash.")
    @OptionGroup var article: ArticleArgument

    func run() async throws {
        try await guarded {
            let (s, id) = try article.resolve()
            try s.restore(id)
            print("restored \(id)")
        }
    }
}

struct Tag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add or remove tags.",
        discussion:
            "Tags are compared after Unicode normalisation and Latin case folding. A tag removed on one laptop and re-added on another stays (add wins).",
        subcommands: [AddTags.self, RemoveTags.self])

    struct AddTags: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Tag an article: synccli tag add ID TAG…")
        @OptionGroup var target: ArticleTags

        func run() async throws {
            try await guarded {
                let (s, id) = try target.article.resolve()
                try s.addTags(target.tags, to: id)
                print("tags of \(id): \(try s.article(id).tags.joined(separator: ", "))")
            }
        }
    }

    struct RemoveTags: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Untag an article: synccli tag remove ID TAG…")
        @OptionGroup var target: ArticleTags

        func run() async throws {
            try await guarded {
                let (s, id) = try target.article.resolve()
                try s.removeTags(target.tags, from: id)
                print("tags of \(id): \(try s.article(id).tags.joined(separator: ", "))")
            }
        }
    }
}
