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

        func validate() throws { try validateLibraryName(name) }

        func run() async throws {
            try await adminAction(storage, create: true) { store in
                try await store.createLibrary(name)
                print("created library \(name) in \(try storage.backend().description)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the libraries.")
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            try await adminAction(storage) { store in
                for name in try await store.libraries() { print(name) }
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
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            try await adminAction(storage) { store in
                let token = DeviceToken.generate()
                let device = try await store.enrollDevice(library: library, name: name, readOnly: readOnly, tokenHash: token.hash)
                print(
                    """
                    enrolled device \(device.id) ("\(name)") for library \(library)\(readOnly ? " (read-only)" : "")
                    token: \(token.value)
                    This token is shown only once; the server keeps only its SHA-256. On the laptop run:
                      synccli remote set \(url) --library \(library) --token \(token.value)
                    """)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices (never their tokens).")
        @Flag(help: "Print JSON instead of a table.") var json = false
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            try await adminAction(storage) { store in
                let devices = try await store.devices()
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    print(String(decoding: try encoder.encode(devices), as: UTF8.self))
                    return
                }
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

        func run() async throws {
            try await adminAction(storage) { store in
                guard try await store.revokeDevice(id: id) else {
                    throw ServerStoreError(.notFound, "no active device with id \(id) (see `syncserver device list`)")
                }
                print("revoked device \(id)")
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
        func run() async throws {
            try await adminAction(storage) { store in print(try await store.epoch()) }
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
        func run() async throws {
            try await adminAction(storage) { store in
                let old = try await store.epoch()
                let new = try await store.rotateEpoch()
                print("epoch rotated: \(old) -> \(new)")
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
