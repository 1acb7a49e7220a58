import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new, empty store (one per laptop).",
        discussion: "Each store gets a random replica id; its ops are stamped with it. Example: synccli init --name \"Amal's laptop\"")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "A name for this laptop, shown in history and conflicts (default: the host name).")
    var name: String?

    func run() async throws {
        try await guarded {
            let s = try Store.create(at: store.path, name: name, now: try StoreOptions.clock())
            struct Created: Encodable { let path: String; let replica: String; let name: String }
            let created = Created(path: s.path, replica: s.replica.description, name: try s.name())
            if output.json {
                try printJSON(created)
            } else {
                print("Created store at \(created.path)\nreplica \(created.replica) (\(created.name))")
            }
        }
    }
}

struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Capture an article from a file or standard input.",
        discussion: """
            Plain text (the default) has the shape of wire copy: first line the title, second line \
            the lead, then the paragraphs. Markdown takes the title from the first heading; HTML \
            from <h1> or <title>. Options override what the text says.

            The same story captured twice (same canonical URL, or the same title and body) is one \
            article: capturing it again only adds the new tags.

            Example: synccli add seed-article-ar.txt --url https://www.almayadeen.net/… --tag غزة
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The article file, or - for standard input.") var file: String?
    @Option(help: "The article's URL (its identity when given).") var url: String?
    @Option(help: "The title (default: from the text).") var title: String?
    @Option(help: "The lead (default: the second line).") var summary: String?
    @Option(help: "Where it comes from (agency, outlet).") var source: String?
    @Option(help: "The author(s).") var byline: String?
    @Option(help: "Publication date, e.g. 2024-02-01.") var published: String?
    @Option(help: "Language code, e.g. ar.") var lang: String?
    @Option(help: "Input format: text, markdown or html.") var format: String = "text"
    @Option(name: .customLong("tag"), help: "A tag to add (repeatable).") var tags: [String] = []

    func run() async throws {
        try await guarded {
            guard let format = ArticleText.Format(rawValue: format) else {
                throw CLIFailure(Exit.usage, "unknown format '\(format)': use text, markdown or html")
            }
            let s = try store.open()
            let data = try readInput(file)
            guard let text = String(data: data, encoding: .utf8) else {
                throw CLIFailure(Exit.dataError, "the input is not UTF-8 text")
            }
            var draft: ArticleDraft
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, let title {
                draft = ArticleDraft(title: title, body: "")
            } else {
                draft = try ArticleText.parse(text, format: format)
            }
            if let title { draft.title = title }
            if let summary { draft.summary = summary }
            draft.url = url; draft.source = source; draft.byline = byline; draft.publishedAt = published; draft.language = lang
            let (id, created) = try s.addArticle(draft, tags: tags)
            struct Added: Encodable { let id: String; let created: Bool; let title: String }
            if output.json {
                try printJSON(Added(id: id, created: created, title: draft.title))
            } else {
                print(created ? "added \(id)  \(oneLine(draft.title))" : "already in the library: \(id)  \(oneLine(draft.title))")
            }
        }
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import many articles from a JSON Lines file.",
        discussion: """
            One JSON object per line: articles ({"title", "body", "url", "summary", "tags", \
            "annotations", …}) and collections ({"type": "collection", "id", "name", "parent"}). \
            The whole file is checked before anything is written; a bad line is reported with its \
            number. See README.md, "Import format". `synccli export --format jsonl` writes this format.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The .jsonl file, or - for standard input.") var file: String
    @Option(help: "Articles per transaction.") var batchSize = 500

    func run() async throws {
        try await guarded {
            guard batchSize > 0 else { throw CLIFailure(Exit.usage, "--batch-size must be positive") }
            let s = try store.open()
            let records = try Store.parseLibrary(try readInput(file))
            let progress = Progress(label: "importing")
            let report = try s.importLibrary(records, batchSize: batchSize, progress: progress.update)
            if output.json {
                try printJSON(report)
            } else {
                print(
                    "imported \(report.articlesCreated) new articles (\(report.articlesExisting) already present), \(report.collections) collections, \(report.annotations) annotations; \(report.ops) ops"
                )
            }
        }
    }
}
