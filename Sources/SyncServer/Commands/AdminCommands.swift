import ArgumentParser
import Foundation
import ServerStorage
import ServerStoreSQLite
import SyncModel
import SyncServerKit

struct LibraryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library", abstract: "Create and list libraries.",
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a library (and the data directory, with a new epoch, if it does not exist).")
        @Argument(help: "The library's name, as it appears in URLs (A–Z a–z 0–9 . _ -).") var name: String
        @OptionGroup var storage: StorageOptions
        @OptionGroup var output: AdminOutput

        func validate() throws { try validateLibraryName(name) }

        func run() async throws {
            try await adminAction(storage, create: true) { store in
                try await store.createLibrary(name)
                let storage = try storage.backend().description
                struct Created: Encodable { let library: String; let storage: String }
                try output.emit(Created(library: name, storage: storage), text: "created library \(name) in \(storage)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the libraries.")
        @OptionGroup var storage: StorageOptions
        @OptionGroup var output: AdminOutput

        func run() async throws {
            try await adminAction(storage) { store in
                let names = try await store.libraries()
                try output.emit(names, text: names.joined(separator: "\n"))
            }
        }
    }
}

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Enrol, list and revoke devices (one token each).",
        subcommands: [Enroll.self, List.self, Revoke.self])

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enrol a device for a library and print its token (shown once, stored only as a hash).")
        @Option(help: "The library the device may sync.") var library: String
        @Option(help: "A name for people, e.g. the laptop's owner.") var name: String
        @Flag(help: "The device may pull but not push.") var readOnly = false
        @Option(
            help: ArgumentHelp(
                "The server's URL as the laptop will reach it, for the printed `synccli remote set` line.",
                valueName: "URL"))
        var url = "http://127.0.0.1:8080"
        @Option(
            help: ArgumentHelp(
                "Re-enrol a laptop: revoke this device (if it is not yet) and move its replica to the new one.",
                valueName: "DEVICE_ID"))
        var replaces: String?
        @OptionGroup var storage: StorageOptions
        @OptionGroup var output: AdminOutput

        func run() async throws {
            try await adminAction(storage) { store in
                let token = DeviceToken.generate()
                let device = try await store.enrollDevice(
                    library: library, name: name, readOnly: readOnly, tokenHash: token.hash, replacing: replaces)
                let remoteSet = "synccli remote set \(url) --library \(library) --token \(token.value)"
                // The token appears only here, once: the server keeps its hash.
                struct Enrolled: Encodable { let device: Device; let token: String; let remoteSet: String; let replaced: String? }
                let replaced = replaces.map { old in
                    "\nreplaces device \(old), now revoked; "
                        + (device.replica.map { "its replica \($0) moved to this device" } ?? "it had pushed nothing")
                }
                try output.emit(
                    Enrolled(device: device, token: token.value, remoteSet: remoteSet, replaced: replaces),
                    text: """
                        enrolled device \(device.id) ("\(name)") for library \(library)\(readOnly ? " (read-only)" : "")\(replaced ?? "")
                        token: \(token.value)
                        This token is shown only once; the server keeps only its SHA-256. On the laptop run:
                          \(remoteSet)
                        """)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices (never their tokens).")
        @OptionGroup var storage: StorageOptions
        @OptionGroup var output: AdminOutput

        func run() async throws {
            try await adminAction(storage) { store in
                let devices = try await store.devices()
                if output.json { return try output.emit(devices, text: "") }
                print("ID                   LIBRARY          ACCESS  REPLICA   STATUS   NAME")
                for d in devices {
                    let status = d.isRevoked ? "revoked" : "active"
                    print(
                        [
                            d.id.padding(20), d.library.padding(16), (d.readOnly ? "read" : "write").padding(7),
                            (d.replica.map { String($0.prefix(8)) } ?? "-").padding(9), status.padding(8), d.name,
                        ]
                        .joined(separator: " "))
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a device's token; the running server refuses it from the next request on.")
        @Argument(help: "The device id (see `syncserver device list`).") var id: String
        @OptionGroup var storage: StorageOptions
        @OptionGroup var output: AdminOutput

        func run() async throws {
            try await adminAction(storage) { store in
                guard try await store.revokeDevice(id: id) else {
                    throw ServerStoreError(.notFound, "no active device with id \(id) (see `syncserver device list`)")
                }
                struct Revoked: Encodable { let revoked: String }
                try output.emit(Revoked(revoked: id), text: "revoked device \(id)")
            }
        }
    }
}

struct EpochCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "epoch", abstract: "Show or rotate the server's epoch.",
        subcommands: [Show.self, Rotate.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the current epoch.")
        @OptionGroup var storage: StorageOptions
        @OptionGroup var output: AdminOutput
        func run() async throws {
            try await adminAction(storage) { store in
                let epoch = try await store.epoch()
                try output.emit(EpochReport(epoch: epoch, previous: nil), text: epoch)
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give the server a new epoch. Run it after restoring a backup, before starting the server.",
            discussion: """
                Clients that see a new epoch ask the server what it holds (GET /v1/libraries/NAME) and \
                re-push what it lost. Run this with the server stopped, as part of the restore procedure \
                in docs/OPERATIONS.md.
                """)
        @OptionGroup var storage: StorageOptions
        @OptionGroup var output: AdminOutput
        func run() async throws {
            try await adminAction(storage) { store in
                let old = try await store.epoch()
                let new = try await store.rotateEpoch()
                try output.emit(EpochReport(epoch: new, previous: old), text: "epoch rotated: \(old) -> \(new)")
            }
        }
    }
}

/// `epoch show` / `epoch rotate --json`: the epoch now, and for a rotation the one before.
struct EpochReport: Encodable {
    let epoch: String
    let previous: String?
}

/// `--json` on every admin command, for provisioning scripts: one JSON document on stdout
/// (sorted keys) instead of the text for people.
struct AdminOutput: ParsableArguments {
    @Flag(help: "Print JSON (for scripts) instead of text.") var json = false

    func emit<T: Encodable>(_ value: T, text: @autoclosure () -> String) throws {
        guard json else { return print(text()) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
