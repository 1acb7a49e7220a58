import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct CollectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection",
        abstract: "Organise articles in (nested) collections.",
        discussion: "Collections are named by id, id prefix or exact name. Membership is an add-wins set: a concurrent add survives a remove.",
        subcommands: [Create.self, Rename.self, Move.self, Delete.self, AddArticles.self, RemoveArticles.self, ListCollections.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a collection: synccli collection create NAME [--parent C]")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        @Option(help: "Create it inside this collection.") var parent: String?
        @Option var description: String?

        func run() async throws {
            try await guarded {
                let s = try store.open()
                let id = try s.createCollection(
                    name: name, parent: try parent.map { try s.resolveCollectionID($0) },
                    description: description)
                if output.json { try printJSON(["id": id, "name": name]) } else { print("created collection \(id)  \(name)") }
            }
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a collection.")
        @OptionGroup var store: StoreOptions
        @Argument var collection: String
        @Argument var name: String

        func run() async throws {
            try await guarded {
                let s = try store.open()
                let id = try s.resolveCollectionID(collection)
                try s.renameCollection(id, to: name)
                print("renamed \(id) to \(name)")
            }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a collection inside another (--to) or to the top level (--top).")
        @OptionGroup var store: StoreOptions
        @Argument var collection: String
        @Option(help: "The new parent collection.") var to: String?
        @Flag(help: "Move to the top level.") var top = false

        func validate() throws {
            if (to == nil) == (top == false) { throw ValidationError("give exactly one of --to PARENT or --top") }
        }

        func run() async throws {
            try await guarded {
                let s = try store.open()
                let id = try s.resolveCollectionID(collection)
                try s.moveCollection(id, to: try to.map { try s.resolveCollectionID($0) })
                print("moved \(id)")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a collection (its articles stay in the library).")
        @OptionGroup var store: StoreOptions
        @Argument var collection: String

        func run() async throws {
            try await guarded {
                let s = try store.open()
                let id = try s.resolveCollectionID(collection)
                try s.deleteCollection(id)
                print("deleted collection \(id)")
            }
        }
    }

    struct AddArticles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Put articles in a collection: synccli collection add C ARTICLE…")
        @OptionGroup var target: CollectionArticles

        func run() async throws {
            try await guarded {
                let (s, id, articles) = try target.resolve()
                try s.addToCollection(id, articles: articles)
                print("added \(articles.count) article(s) to \(id)")
            }
        }
    }

    struct RemoveArticles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Take articles out of a collection.")
        @OptionGroup var target: CollectionArticles

        func run() async throws {
            try await guarded {
                let (s, id, articles) = try target.resolve()
                try s.removeFromCollection(id, articles: articles)
                print("removed \(articles.count) article(s) from \(id)")
            }
        }
    }

    struct ListCollections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Show the collection tree with article counts.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            try await guarded {
                let all = try store.open().collections()
                if output.json { return try printJSON(all) }
                let ids = Set(all.map(\.id))
                var printed = Set<String>()
                func show(_ c: ArticleCollection, depth: Int) {
                    guard printed.insert(c.id).inserted else { return }
                    print(String(repeating: "  ", count: depth) + "\(c.name)  (\(c.articleCount))  \(c.id)")
                    for child in all where child.parent == c.id { show(child, depth: depth + 1) }
                }
                for c in all where c.parent == nil || !ids.contains(c.parent!) { show(c, depth: 0) }
                // Concurrent moves on two laptops can form a cycle; show those at the top level.
                for c in all where !printed.contains(c.id) { show(c, depth: 0) }
            }
        }
    }
}
