/// One field of an entity, described once. Everything that depends on the list of fields reads
/// these tables: the materializer's columns, the queries, the trash rule (rule 3), conflicts,
/// import and export. The name is the field's name in ops, its column in the materialized table
/// and its key in JSON Lines.
///
/// ```swift
/// ArticleFields.title.countsAsWork          // true: a title edit is work on the article
/// ArticleFields.capturedAt.reportsConflicts // false: provenance, not a choice anyone made
/// Fields.named("body", of: .article)        // ArticleFields.body
/// ```
///
/// ## Topics
/// - ``ArticleFields``, ``CollectionFields``, ``AnnotationFields``, ``Fields``
/// - ``Role``
public struct Field: Sendable, Hashable, CustomStringConvertible {
    public enum ValueType: Sendable, Hashable { case string, int, bool }

    /// What the field is to a newsroom, which decides the rules that depend on it.
    public enum Role: Sendable, Hashable {
        /// What someone wrote or chose: editing it is work (rule 3), concurrent values are conflicts.
        case content
        /// Where the entity came from (who captured it, when): concurrent values are expected
        /// (two laptops capturing one story) and not reported as conflicts.
        case provenance
        /// A reader's own state (read, starred, in the trash): not anybody's work on the text.
        case userState
    }

    public let entity: EntityRef.Kind
    public let name: String
    public let type: ValueType
    public let role: Role
    /// What a reader sees when no write has a value: "" for text an entity always has, false for
    /// a flag; nil for none (NULL, absent from JSON Lines).
    public let emptyValue: Value?
    /// An empty string means "none" (a collection's `parent`: "" is the top level).
    public let blankIsNone: Bool

    init(
        _ entity: EntityRef.Kind, _ name: String, _ type: ValueType, _ role: Role = .content, empty: Value? = nil,
        blankIsNone: Bool = false
    ) {
        self.entity = entity; self.name = name; self.type = type; self.role = role; self.emptyValue = empty
        self.blankIsNone = blankIsNone
    }

    /// Editing it is someone's work on its article (rule 3).
    public var countsAsWork: Bool { role != .userState }
    /// Concurrent values are listed by `synccli conflicts`.
    public var reportsConflicts: Bool { role != .provenance }

    /// What a reader sees for a field whose winning write holds `value` (nil: no write). A value
    /// of another type than the field's (a peer's bug, or a newer version's) is shown as empty.
    public func shown(_ value: Value?) -> Value? {
        guard let value, value != .null, accepts(value) else { return emptyValue }
        if blankIsNone, value == .string("") { return emptyValue }
        return value
    }

    /// Whether `value` has the field's type (`.null` always does).
    public func accepts(_ value: Value) -> Bool {
        switch (type, value) {
        case (_, .null), (.string, .string), (.int, .int), (.bool, .bool): true
        default: false
        }
    }

    public var description: String { "\(entity.name).\(name)" }
}

/// The fields of an article.
public enum ArticleFields {
    public static let url = Field(.article, "url", .string)
    public static let title = Field(.article, "title", .string, empty: .string(""))
    public static let summary = Field(.article, "summary", .string, empty: .string(""))
    public static let body = Field(.article, "body", .string, empty: .string(""))
    public static let byline = Field(.article, "byline", .string)
    public static let source = Field(.article, "source", .string)
    public static let publishedAt = Field(.article, "published_at", .string)
    public static let language = Field(.article, "language", .string)
    public static let capturedAt = Field(.article, "captured_at", .int, .provenance)
    public static let capturedBy = Field(.article, "captured_by", .string, .provenance)
    public static let read = Field(.article, "read", .bool, .userState, empty: .bool(false))
    public static let starred = Field(.article, "starred", .bool, .userState, empty: .bool(false))
    public static let trashed = Field(.article, "trashed", .bool, .userState, empty: .bool(false))

    public static let all = [
        url, title, summary, body, byline, source, publishedAt, language, capturedAt,
        capturedBy, read, starred, trashed,
    ]
    /// What a reporter writes or corrects (`synccli edit`); the rest is provenance or reading state.
    public static let editable = all.filter { $0.role == .content }
    /// An article exists once one of these has a value.
    public static let identifying = [title, body]

    /// Whether an article with these winning values exists (a title or a body, of any type).
    public static func exist(_ f: FieldValues) -> Bool { identifying.contains { f[$0] != nil } }
}

/// The fields of a collection.
public enum CollectionFields {
    public static let name = Field(.collection, "name", .string)
    public static let description = Field(.collection, "description", .string)
    /// The enclosing collection's id; "" (none) at the top level.
    public static let parent = Field(.collection, "parent", .string, blankIsNone: true)
    public static let trashed = Field(.collection, "trashed", .bool, .userState, empty: .bool(false))

    public static let all = [name, description, parent, trashed]
    public static let identifying = [name]

    /// Whether a collection with these winning values exists: it has a name.
    public static func exist(_ f: FieldValues) -> Bool { f.string(name) != nil }
}

/// The fields of a highlight or a note.
public enum AnnotationFields {
    /// `highlight` or `note`.
    public static let kind = Field(.annotation, "kind", .string)
    /// Unicode scalar offsets into the NFC body, end exclusive (TextPositionSelector).
    public static let start = Field(.annotation, "start", .int)
    public static let end = Field(.annotation, "end", .int)
    /// The quote and its context (TextQuoteSelector).
    public static let exact = Field(.annotation, "exact", .string)
    public static let prefix = Field(.annotation, "prefix", .string)
    public static let suffix = Field(.annotation, "suffix", .string)
    public static let note = Field(.annotation, "note", .string)
    public static let color = Field(.annotation, "color", .string)
    public static let author = Field(.annotation, "author", .string, .provenance)
    public static let createdAt = Field(.annotation, "created_at", .int, .provenance)
    public static let removed = Field(.annotation, "removed", .bool, .userState, empty: .bool(false))
    /// The highlighted characters, first and last (``TextAnchor/encoded``): what keeps a highlight
    /// on its words when the body is edited. `start`, `end` and the quote are re-derived from it.
    public static let anchor = Field(.annotation, "anchor", .string)

    public static let all = [kind, start, end, exact, prefix, suffix, note, color, author, createdAt, removed, anchor]
    /// What JSON Lines carries of an annotation (a removed one is not exported at all; the
    /// anchor names characters of this library only, the selectors are what other tools read).
    public static let interchange = all.filter { $0 != removed && $0 != anchor }
    public static let identifying = [kind]

    /// Whether an annotation with these winning values exists: it has a kind.
    public static func exist(_ f: FieldValues) -> Bool { f.string(kind) != nil }
}

/// The tables, by entity kind.
public enum Fields {
    public static func all(of kind: EntityRef.Kind) -> [Field] {
        switch kind {
        case .article: ArticleFields.all
        case .collection: CollectionFields.all
        case .annotation: AnnotationFields.all
        default: []
        }
    }

    /// The field of that name, if this version knows it (a newer version may write others: they
    /// are merged like any field, counted as content, and not materialized).
    public static func named(_ name: String, of kind: EntityRef.Kind) -> Field? {
        byName[kind]?[name]
    }

    static let byName: [EntityRef.Kind: [String: Field]] = Dictionary(
        uniqueKeysWithValues: EntityRef.Kind.known.map { kind in
            (kind, Dictionary(uniqueKeysWithValues: all(of: kind).map { ($0.name, $0) }))
        })
}

/// Values of an entity's fields, by name, as a read or an import has them.
public struct FieldValues: Sendable, Hashable {
    public private(set) var values: [String: Value]

    public init(_ values: [String: Value] = [:]) { self.values = values }

    public subscript(field: Field) -> Value? {
        get { values[field.name] }
        set { values[field.name] = newValue }
    }

    public func string(_ field: Field) -> String? { values[field.name]?.string }
    public func int(_ field: Field) -> Int64? { values[field.name]?.int }
    public func bool(_ field: Field) -> Bool { values[field.name]?.bool ?? false }
}

/// The long texts that merge character by character (``TextSequence``): an article's body and an
/// annotation's note. Their first value is written whole (``TextGenesis``); every later edit is
/// a text op that names the characters it changes.
public enum TextFields {
    public static let all = [ArticleFields.body, AnnotationFields.note]

    public static func contains(_ kind: EntityRef.Kind, _ name: String) -> Bool {
        all.contains { $0.entity == kind && $0.name == name }
    }
}
