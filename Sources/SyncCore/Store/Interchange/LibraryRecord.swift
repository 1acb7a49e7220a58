public import SyncModel

/// One line of the JSON Lines interchange format (`synccli import` / `export --format jsonl`),
/// documented in README.md ("Import format"). The keys of an article, a collection and an
/// annotation are the names of their fields (``ArticleFields``, ``CollectionFields``,
/// ``AnnotationFields``), typed as the tables say; unknown keys are ignored; `type` defaults to
/// `article`.
///
/// ```swift
/// let r = try JSONDecoder().decode(LibraryRecord.self, from: Data(#"{"title":"غزة","tags":["عاجل"]}"#.utf8))
/// r.fields.string(ArticleFields.title)   // "غزة"
/// ```
public struct LibraryRecord: Sendable, Equatable {
    public enum Kind: String, Sendable { case article, collection }

    public var kind: Kind
    public var id: String?
    public var fields: FieldValues
    // article
    public var tags: [String]?
    /// Collection ids.
    public var collections: [String]?
    public var annotations: [AnnotationRecord]?

    public init(
        kind: Kind = .article, id: String? = nil, fields: FieldValues = FieldValues(), tags: [String]? = nil,
        collections: [String]? = nil, annotations: [AnnotationRecord]? = nil
    ) {
        self.kind = kind; self.id = id; self.fields = fields; self.tags = tags; self.collections = collections
        self.annotations = annotations
    }

    public struct AnnotationRecord: Sendable, Equatable {
        public var id: String?
        public var fields: FieldValues

        public init(id: String? = nil, fields: FieldValues) { self.id = id; self.fields = fields }
    }

    /// The fields a record of `kind` carries.
    public static func fields(of kind: Kind) -> [Field] {
        switch kind {
        case .article: ArticleFields.all
        // A collection in the file is live: its trash state is not interchanged.
        case .collection: CollectionFields.all.filter { $0 != CollectionFields.trashed }
        }
    }
}

extension LibraryRecord: Codable {
    struct Key: CodingKey {
        let stringValue: String
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decodeIfPresent(String.self, forKey: Key("type")) ?? Kind.article.rawValue
        guard let kind = Kind(rawValue: type) else {
            throw DecodingError.dataCorruptedError(
                forKey: Key("type"), in: c,
                debugDescription: "unknown record type '\(type)' (expected article or collection)")
        }
        self.kind = kind
        id = try c.decodeIfPresent(String.self, forKey: Key("id"))
        fields = try Self.decodeFields(Self.fields(of: kind), from: c)
        tags = try c.decodeIfPresent([String].self, forKey: Key("tags"))
        collections = try c.decodeIfPresent([String].self, forKey: Key("collections"))
        annotations = try c.decodeIfPresent([AnnotationRecord].self, forKey: Key("annotations"))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        if kind != .article { try c.encode(kind.rawValue, forKey: Key("type")) }
        try c.encodeIfPresent(id, forKey: Key("id"))
        try Self.encodeFields(fields, Self.fields(of: kind), into: &c)
        try c.encodeIfPresent(tags, forKey: Key("tags"))
        try c.encodeIfPresent(collections, forKey: Key("collections"))
        try c.encodeIfPresent(annotations, forKey: Key("annotations"))
    }

    /// Each field of the table that the object has, decoded as the field's type (a wrong type is
    /// an error naming the key); JSON `null` is the same as absent.
    static func decodeFields(_ table: [Field], from c: KeyedDecodingContainer<Key>) throws -> FieldValues {
        var values = FieldValues()
        for field in table {
            let key = Key(field.name)
            guard c.contains(key), try !c.decodeNil(forKey: key) else { continue }
            switch field.type {
            case .string: values[field] = .string(try c.decode(String.self, forKey: key))
            case .int: values[field] = .int(try c.decode(Int64.self, forKey: key))
            case .bool: values[field] = .bool(try c.decode(Bool.self, forKey: key))
            }
        }
        return values
    }

    static func encodeFields(_ values: FieldValues, _ table: [Field], into c: inout KeyedEncodingContainer<Key>) throws {
        for field in table {
            switch values[field] {
            case .string(let s): try c.encode(s, forKey: Key(field.name))
            case .int(let i): try c.encode(i, forKey: Key(field.name))
            case .bool(let b): try c.encode(b, forKey: Key(field.name))
            case .null, nil: break
            }
        }
    }
}

extension LibraryRecord.AnnotationRecord: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: LibraryRecord.Key.self)
        id = try c.decodeIfPresent(String.self, forKey: LibraryRecord.Key("id"))
        fields = try LibraryRecord.decodeFields(AnnotationFields.interchange, from: c)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: LibraryRecord.Key.self)
        try c.encodeIfPresent(id, forKey: LibraryRecord.Key("id"))
        try LibraryRecord.encodeFields(fields, AnnotationFields.interchange, into: &c)
    }
}
