import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List articles, newest first.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Only articles in this collection (name or id).") var collection: String?
    @Option(help: "Only articles with this tag.") var tag: String?
    @Flag(help: "List the trash instead.") var trash = false
    @Option(help: "At most this many.") var limit: Int?

    func run() async throws {
        try await guarded {
            let s = try store.open()
            let collectionID = try collection.map { try s.resolveCollectionID($0) }
            let articles = try s.listArticles(collection: collectionID, tag: tag, trash: trash, limit: limit)
            if output.json { return try printJSON(articles) }
            for a in articles {
                let marks = (a.starred ? "★" : " ") + (a.read ? " " : "•")
                let tags = a.tags.isEmpty ? "" : "  [" + a.tags.joined(separator: ", ") + "]"
                print("\(short(a.id))  \(marks) \(oneLine(a.title))\(tags)")
            }
            if articles.isEmpty && !output.json { FileHandle.standardError.write(Data("(no articles)\n".utf8)) }
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an article with its tags, collections, highlights and notes.")

    @OptionGroup var article: ArticleArgument
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await guarded {
            let (s, id) = try article.resolve()
            let a = try s.article(id)
            if output.json { return try printJSON(a) }
            print(a.title)
            print(String(repeating: "=", count: min(60, max(8, a.title.count))))
            var meta = a.metadata.map { "\($0.label): \($0.value)" }
            var state: [String] = []
            if a.trashed { state.append("in the trash") }
            if a.starred { state.append("starred") }
            if a.read { state.append("read") }
            if !state.isEmpty { meta.append("state: \(state.joined(separator: ", "))") }
            if let c = a.trashConflict { meta.append("CONFLICT: \(c)") }
            print(meta.joined(separator: "\n"))
            if !a.summary.isEmpty { print("\n\(a.summary)") }
            print("\n\(a.body)")
            if !a.annotations.isEmpty {
                print("\nHighlights and notes:")
                for n in a.annotations {
                    let by = n.author.map { " — \($0)" } ?? ""
                    if let exact = n.exact, n.detached {
                        print("  [\(n.id)] «\(exact)» DETACHED: these words were deleted from the body (they stood at \(n.start ?? 0))\(by)")
                        if let note = n.note { print("      \(note)") }
                    } else if let exact = n.exact {
                        print("  [\(n.id)] «\(exact)» (\(n.start ?? 0)–\(n.end ?? 0))\(n.color.map { " \($0)" } ?? "")\(by)")
                        if let note = n.note { print("      \(note)") }
                    } else {
                        print("  [\(n.id)] note: \(n.note ?? "")\(by)")
                    }
                }
            }
        }
    }
}

struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search titles, leads and bodies (Arabic-aware), best matches first.",
        discussion: """
            Query syntax:
              word word          every word must appear (in any field: title, lead, body)
              "a phrase"         the words adjacent and in order, within one field
              prefix*            a word (clitics aside) starting so: مقاوم* → المقاومة
              WHO                2–3 capitals: the acronym only; who finds both

            Each word matches its spelling variants: diacritics, tatweel, alef and hamza forms \
            (مسئول = مسؤول), ى/ي, ة/ه, Arabic-Indic digits, Latin case and accents; with or without \
            proclitics and the article (مستشفى finds وبالمستشفى, الآليات finds آليات). A single letter \
            typed before a word is kept: وزير does not find الزير.

            Examples:
              synccli search غزة
              synccli search '"وقف إطلاق النار"' --limit 5
              synccli search 'مستوطن*' الضفة --json
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Words, \"phrases\" and prefix* to look for (quote phrases for the shell).") var query: [String]
    @Option(help: "At most this many results.") var limit = 20
    @Flag(help: "Search the trash too.") var includeTrash = false

    func run() async throws {
        try await guarded {
            let hits = try store.open().search(query.joined(separator: " "), limit: limit, includeTrash: includeTrash)
            if output.json { return try printJSON(hits) }
            for h in hits { print("\(short(h.id))  \(oneLine(h.title))\n    \(oneLine(h.snippet, max: 160))") }
            if hits.isEmpty { FileHandle.standardError.write(Data("(no matches)\n".utf8)) }
        }
    }
}

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show who changed what, when, and from which replica (newest first).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Only this article (and its annotations).") var id: String?
    @Option(help: "At most this many entries.") var limit = 50

    func run() async throws {
        try await guarded {
            let s = try store.open()
            let entries = try s.log(article: try id.map { try s.resolveArticleID($0) }, limit: limit)
            if output.json { return try printJSON(entries) }
            for e in entries { print("\(e.time)  \(e.op)  \(oneLine(e.change, max: 120))") }
        }
    }
}
