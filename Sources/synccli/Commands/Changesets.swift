import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct ChangesetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changeset",
        abstract: "Exchange changes as files (USB stick, mail) without a server.",
        discussion: """
            On laptop B:  synccli changeset vv > b.vv                 (what B has seen)
            On laptop A:  synccli changeset export --since b.vv -o a-to-b.ascs
            On laptop B:  synccli changeset apply a-to-b.ascs
            Without --since, export writes everything. Applying the same file twice, or files in \
            any order, is harmless. For a laptop on the previous release, export with --format 2. \
            The format is described in Protocol.md.
            """,
        subcommands: [ExportChanges.self, Apply.self, Inspect.self, VV.self])

    struct ExportChanges: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the changes another store may lack to a file.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "The other store's version vector: a file written by `changeset vv`, or the text itself (replica:counter,…).")
        var since: String?
        @Option(name: [.customShort("o"), .customLong("output")], help: "The changeset file to write.") var file: String
        @Option(
            help: ArgumentHelp(
                "The frame format: 3 (this version), or 2 for a laptop on the previous release, which reads no newer.",
                valueName: "2|3"))
        var format: UInt8 = Changeset.formatMajor

        func validate() throws {
            guard Changeset.writableFormats.contains(format) else {
                throw ValidationError("--format must be 2 or 3 (got \(format))")
            }
        }

        func run() async throws {
            try await guarded {
                let s = try store.open()
                let vv = try since.map(parseVersionVector) ?? VersionVector()
                let (bytes, frames, ops) = try s.exportChangesets(since: vv, format: format)
                let temporary = file + ".partial"
                guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
                    throw CLIFailure(Exit.cantCreate, "cannot write \(file)")
                }
                _ = try? FileManager.default.removeItem(atPath: file)
                try FileManager.default.moveItem(atPath: temporary, toPath: file)
                struct Exported: Encodable { let file: String; let frames: Int; let ops: Int; let bytes: Int }
                let e = Exported(file: file, frames: frames, ops: ops, bytes: bytes.count)
                if output.json { try printJSON(e) } else { print("wrote \(ops) ops in \(frames) frame(s), \(bytes.count) bytes, to \(file)") }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge changeset files into this store (checked in full before anything is applied).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Changeset files.") var files: [String]

        func validate() throws { if files.isEmpty { throw ValidationError("give at least one changeset file") } }

        func run() async throws {
            try await guarded {
                let s = try store.open()
                // Decode and check every file before merging any of them: one bad file among
                // several must leave the store untouched.
                var ops: [Op] = []
                for file in files {
                    let bytes = Array(try readInput(file))
                    // `export` writes an empty file when the other side already has everything.
                    if bytes.isEmpty {
                        printError("\(file) is empty: nothing to apply")
                        continue
                    }
                    do {
                        ops += try Changeset.decodeAll(bytes).flatMap(\.ops)
                    } catch let e as ChangesetError {
                        throw CLIFailure(Exit.dataError, "\(file): changeset refused, nothing applied: \(e.reason)")
                    }
                }
                let total = try s.merge(ops)
                struct Applied: Encodable { let received: Int; let applied: Int; let duplicates: Int; let conflicts: Int }
                let conflicts = try s.conflicts().count
                if output.json {
                    try printJSON(Applied(received: total.received, applied: total.applied, duplicates: total.duplicates, conflicts: conflicts))
                } else {
                    print("applied \(total.applied) new ops (\(total.duplicates) already present); \(conflicts) conflict(s)")
                }
            }
        }
    }

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a changeset file: frames, replicas, counters and every op.")
        @OptionGroup var output: OutputOptions
        @Argument var file: String

        func run() async throws {
            try await guarded {
                let frames = try Changeset.decodeAll(Array(try readInput(file)))
                struct OpLine: Encodable { let op: String; let hlc: String; let time: String; let change: String }
                struct Frame: Encodable { let replica: String; let format: UInt8; let first: UInt64; let last: UInt64; let ops: [OpLine] }
                let rendered = frames.map { f in
                    Frame(
                        replica: f.replica.description, format: f.format, first: f.firstCounter, last: f.lastCounter,
                        ops: f.ops.map {
                            OpLine(
                                op: "\($0.id.replica):\($0.id.counter)", hlc: $0.hlc.description,
                                time: TimeFormat.iso($0.hlc.millis), change: OpDescription.describe($0.body))
                        })
                }
                if output.json { return try printJSON(rendered) }
                for f in rendered {
                    print("frame: replica \(f.replica), ops \(f.first)…\(f.last) (\(f.ops.count)), format \(f.format)")
                    for o in f.ops { print("  \(o.op.suffix(12))  \(o.time)  \(oneLine(o.change, max: 110))") }
                }
            }
        }
    }

    struct VV: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "vv", abstract: "Print what this store has seen (for `export --since`).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await guarded { print(try store.open().versionVector().text) }
        }
    }
}

/// A version vector from a file written by `changeset vv`, or given inline.
func parseVersionVector(_ argument: String) throws -> VersionVector {
    var text = argument
    if FileManager.default.fileExists(atPath: argument) {
        text = String(decoding: try readInput(argument), as: UTF8.self)
    }
    guard let vv = VersionVector(text: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw CLIFailure(Exit.dataError, "'\(argument)' is neither a version vector file nor replica:counter,… text")
    }
    return vv
}
