import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct Highlight: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Highlight a passage of an article.",
        discussion: """
            Find the passage by its text (--quote, with --occurrence N when it appears more than \
            once) or give Unicode scalar offsets into the body (--start/--end). The highlight is \
            bound to its characters: edits of the body on any laptop move it with its words; text \
            typed at its edges stays outside; if all its words are deleted it is kept, marked \
            detached (`show`, `conflicts`). Example:
              synccli highlight 3f2a --quote "مخيم المغازي" --note "تحقق من المصدر"
            """)

    @OptionGroup var article: ArticleArgument
    @OptionGroup var output: OutputOptions
    @Option(help: "The exact text to highlight.") var quote: String?
    @Option(help: "Which occurrence of the quote (1 = first).") var occurrence = 1
    @Option(help: "Start offset (Unicode scalars, inclusive).") var start: Int?
    @Option(help: "End offset (Unicode scalars, exclusive).") var end: Int?
    @Option(help: "A note on the highlight.") var note: String?
    @Option(help: "A colour name, e.g. yellow.") var color: String?

    func validate() throws {
        if quote != nil && (start != nil || end != nil) { throw ValidationError("give --quote or --start/--end, not both") }
        if quote == nil && (start == nil || end == nil) { throw ValidationError("give --quote TEXT, or both --start and --end") }
        if occurrence < 1 { throw ValidationError("--occurrence counts from 1") }
    }

    func run() async throws {
        try await guarded {
            let (s, articleID) = try article.resolve()
            let target: HighlightTarget = quote.map { .quote($0, occurrence: occurrence) } ?? .range(start: start!, end: end!)
            let annotation = try s.highlight(article: articleID, target, note: note, color: color)
            if output.json { try printJSON(["id": annotation, "article": articleID]) } else { print("highlighted: annotation \(annotation)") }
        }
    }
}

struct Note: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a note on a highlight, or a free note on an article.",
        discussion: "synccli note ANNOTATION_ID TEXT   sets the note of a highlight\nsynccli note --article ID TEXT    adds a note to an article")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Add a free note to this article instead.") var article: String?
    @Argument(help: "ANNOTATION_ID TEXT, or TEXT with --article.") var words: [String]

    func run() async throws {
        try await guarded {
            let s = try store.open()
            if let article {
                guard !words.isEmpty else { throw CLIFailure(Exit.usage, "give the note text") }
                let articleID = try s.resolveArticleID(article)
                let id = try s.addNote(article: articleID, text: words.joined(separator: " "))
                if output.json { try printJSON(["id": id, "article": articleID]) } else { print("noted: annotation \(id)") }
            } else {
                guard words.count >= 2 else { throw CLIFailure(Exit.usage, "usage: synccli note ANNOTATION_ID TEXT (or --article ID TEXT)") }
                let id = try s.resolveAnnotationID(words[0])
                try s.setNote(annotation: id, text: words.dropFirst().joined(separator: " "))
                if output.json { try printJSON(["id": id]) } else { print("noted: annotation \(id)") }
            }
        }
    }
}

struct AnnotationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "annotation", abstract: "Manage highlights and notes.",
        subcommands: [Remove.self])

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a highlight or note.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Annotation id or prefix.") var id: String

        func run() async throws {
            try await guarded {
                let s = try store.open()
                let annotation = try s.resolveAnnotationID(id)
                try s.removeAnnotation(annotation)
                print("removed annotation \(annotation)")
            }
        }
    }
}
