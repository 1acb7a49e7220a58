import Foundation
import GRDB
import SyncModel
import SyncWire

extension Store {
    /// Creates a collection (optionally inside another) and returns its id.
    @discardableResult
    public func createCollection(name: String, parent: String? = nil, description: String? = nil) throws -> String {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw StoreError(.invalidInput, "a collection needs a name") }
        let id = newIdentifier()
        try local { w in
            if let parent { try Self.requireCollection(parent, w.db) }
            var writes = [FieldWrite("name", .string(name)), FieldWrite("parent", .string(parent ?? ""))]
            if let description { writes.append(FieldWrite("description", .string(description))) }
            try w.emit(.assign(.collection(id), writes))
        }
        return id
    }

    static func requireCollection(_ id: String, _ db: Database) throws {
        guard let trashed = try Bool.fetchOne(db, sql: "SELECT trashed FROM collections WHERE id = ?", arguments: [id]) else {
            throw StoreError(.notFound, "no collection \(id) (see `synccli collection list`)")
        }
        if trashed { throw StoreError(.trashed, "collection \(id) was deleted") }
    }

    public func renameCollection(_ id: String, to name: String) throws {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw StoreError(.invalidInput, "a collection needs a name") }
        try local { w in
            try Self.requireCollection(id, w.db)
            try w.emit(.assign(.collection(id), [try w.write(.collection(id), "name", .string(name))]))
        }
    }

    /// Moves a collection under `parent` (nil: to the top level). Refuses to create a cycle.
    public func moveCollection(_ id: String, to parent: String?) throws {
        try local { w in
            try Self.requireCollection(id, w.db)
            if let parent {
                try Self.requireCollection(parent, w.db)
                var cursor: String? = parent
                var hops = 0
                while let c = cursor, hops < 10_000 {
                    if c == id { throw StoreError(.invalidInput, "cannot move collection \(id) inside itself") }
                    cursor = try String.fetchOne(w.db, sql: "SELECT parent FROM collections WHERE id = ?", arguments: [c])
                    hops += 1
                }
            }
            try w.emit(.assign(.collection(id), [try w.write(.collection(id), "parent", .string(parent ?? ""))]))
        }
    }

    /// Deletes a collection: it goes to the trash (restorable); its articles stay in the library.
    public func deleteCollection(_ id: String) throws {
        try local { w in
            try Self.requireCollection(id, w.db)
            try w.emit(.assign(.collection(id), [try w.write(.collection(id), CollectionFields.trashed.name, .bool(true))]))
        }
    }

    public func addToCollection(_ collection: String, articles: [String]) throws {
        try local { w in
            try Self.requireCollection(collection, w.db)
            for article in articles {
                try Self.requireArticle(article, w.db, allowTrashed: true)
                // A new add even when already a member, so it survives a concurrent remove.
                try w.emit(.setAdd(.collection(collection), set: "members", element: article))
            }
        }
    }

    public func removeFromCollection(_ collection: String, articles: [String]) throws {
        try local { w in
            try Self.requireCollection(collection, w.db)
            let set = try w.set(.collection(collection), "members")
            for article in articles {
                let observed = set.liveAdds(of: article)
                if observed.isEmpty { throw StoreError(.notFound, "article \(article) is not in collection \(collection)") }
                try w.emit(.setRemove(.collection(collection), set: "members", element: article, observed: observed))
            }
        }
    }
}
