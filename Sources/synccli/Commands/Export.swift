import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

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
                    let handle = FileHandle(forWritingAtPath: temporary)
                else {
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
