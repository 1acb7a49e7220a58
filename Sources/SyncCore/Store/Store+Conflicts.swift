import Foundation
import GRDB
import SyncModel
import SyncWire

/// A field written concurrently on several laptops: the value everyone sees, and the values that
/// lost (kept, restorable).
public struct FieldConflict: Sendable, Equatable, Codable {
    public struct Candidate: Sendable, Equatable, Codable {
        /// `replica:counter` of the write.
        public var op: String
        public var replica: String
        public var time: String
        public var value: String
    }
    public var kind: String
    public var entity: String
    /// The article the conflict belongs to (the entity itself, or an annotation's article).
    public var article: String?
    public var field: String
    public var current: Candidate
    public var losers: [Candidate]
}

/// An article trashed on one laptop while someone else worked on it (rule 3).
public struct TrashConflict: Sendable, Equatable, Codable {
    public var article: String
    public var title: String
    public var reason: String
}

/// A highlight whose every character was deleted by an edit of the body: kept (with the quote
/// it was made on) and listed until someone removes it (`synccli annotation remove`).
public struct DetachedHighlight: Sendable, Equatable, Codable {
    public var article: String
    public var title: String
    public var annotation: String
    /// The words it highlighted.
    public var exact: String
    /// Where in the body they were (Unicode scalars).
    public var position: Int
}

public struct Conflicts: Sendable, Equatable, Codable {
    public var fields: [FieldConflict]
    public var trash: [TrashConflict]
    public var detached: [DetachedHighlight]
    public var count: Int { fields.count + trash.count + detached.count }
}

extension Store {
    public func conflicts(article: String? = nil) throws -> Conflicts {
        try read { db in
            var fields: [FieldConflict] = []
            let keys = try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, entity, field, parent FROM registers WHERE dominated = 0 AND hlc IS NOT NULL
                    GROUP BY kind, entity, field HAVING count(*) > 1 ORDER BY kind, entity, field
                    """)
            for key in keys {
                let field: String = key["field"]
                let kind = EntityRef.Kind(rawValue: key["kind"])
                // Provenance (who captured it, when) is informative, not a choice anyone made:
                // concurrent values are expected and not reported.
                guard kind.isKnown, Fields.named(field, of: kind)?.reportsConflicts ?? true else { continue }
                let entity = EntityRef(kind, key["entity"], parent: key["parent"])
                if let article, entity.articleID != article { continue }
                let register = try MergeState.register(entity, field, in: db)
                guard let winner = register.winner, !register.conflicts.isEmpty else { continue }
                fields.append(
                    FieldConflict(
                        kind: kind.name, entity: entity.id, article: entity.articleID, field: field,
                        current: Self.candidate(winner), losers: register.conflicts.map(Self.candidate)))
            }
            var sql = "SELECT id, title, trash_conflict FROM articles WHERE trash_conflict IS NOT NULL"
            var arguments: StatementArguments = []
            if let article { sql += " AND id = ?"; arguments += [article] }
            let trash = try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments).map {
                TrashConflict(article: $0["id"], title: $0["title"], reason: $0["trash_conflict"])
            }
            sql = """
                SELECT n.id, n.article, n.exact, n.start, a.title FROM annotations n JOIN articles a ON a.id = n.article
                WHERE n.detached <> 0 AND n.removed = 0
                """
            arguments = []
            if let article { sql += " AND n.article = ?"; arguments += [article] }
            let detached = try Row.fetchAll(db, sql: sql + " ORDER BY n.article, n.start, n.id", arguments: arguments).map {
                DetachedHighlight(
                    article: $0["article"], title: $0["title"], annotation: $0["id"], exact: $0["exact"] ?? "", position: $0["start"] ?? 0)
            }
            return Conflicts(fields: fields, trash: trash, detached: detached)
        }
    }

    static func candidate(_ v: LWWRegister.Version) -> FieldConflict.Candidate {
        FieldConflict.Candidate(
            op: "\(v.id.replica.description):\(v.id.counter)", replica: v.id.replica.short,
            time: TimeFormat.iso(v.hlc?.millis ?? 0), value: v.value?.description ?? "")
    }

    /// Resolves a field conflict by choosing a value: either one of the competing writes
    /// (`keep`, an op ref as listed by `conflicts`) or a new value. The resolution is an op that
    /// names every competing write, so it syncs and settles the conflict everywhere.
    public func resolveConflict(entity id: String, field: String, keep: String? = nil, value: String? = nil) throws {
        try local { w in
            guard
                let row = try Row.fetchOne(
                    w.db,
                    sql: """
                        SELECT kind, parent FROM registers WHERE entity = ? AND field = ? LIMIT 1
                        """, arguments: [id, field]), case let kind = EntityRef.Kind(rawValue: row["kind"]), kind.isKnown
            else {
                throw StoreError(.notFound, "no field '\(field)' on \(id) (see `synccli conflicts`)")
            }
            let entity = EntityRef(kind, id, parent: row["parent"])
            let register = try w.register(entity, field)
            guard register.heads.count > 1 else {
                throw StoreError(.invalidInput, "\(field) of \(id) is not in conflict")
            }
            let chosen: Value
            if let keep {
                guard
                    let head = register.heads.first(where: {
                        "\($0.id.replica.description):\($0.id.counter)" == keep || "\($0.id.replica.short):\($0.id.counter)" == keep
                    }), let v = head.value
                else {
                    throw StoreError(.invalidInput, "'\(keep)' is not one of the competing values (see `synccli conflicts`)")
                }
                chosen = v
            } else if let value {
                chosen = .string(value)
            } else {
                throw StoreError(.invalidInput, "choose a value: --keep OP or --value TEXT")
            }
            try w.emit(.assign(entity, [FieldWrite(field, chosen, prev: register.prev(resolving: true))]))
        }
    }

    /// Settles a trash conflict by keeping the article in the trash knowingly: a new trash op
    /// that has seen the concurrent work. (Restoring the article settles it the other way.)
    public func confirmTrash(_ id: String) throws {
        try local { w in
            try Self.requireArticle(id, w.db, allowTrashed: true)
            let seen = try OpLog.versionVector(in: w.db)
            try w.emit(.assign(.article(id), [try w.write(.article(id), ArticleFields.trashed.name, .bool(true))]), context: seen)
        }
    }
}
