/// The content of an op: what a kind-specific payload says. The entity it is about is part of
/// every case, because every op's envelope carries it.
public enum OpBody: Hashable, Sendable {
    /// Last-writer-wins writes to one or more fields of an entity (creation is a write of all
    /// its fields).
    case assign(EntityRef, [FieldWrite])
    /// Add an element to an add-wins set (`tags` of an article, `members` of a collection).
    case setAdd(EntityRef, set: String, element: String)
    /// Remove the adds of `element` that the author had observed; a concurrent add survives.
    case setRemove(EntityRef, set: String, element: String, observed: [OpID])
    /// A character-level change to a long text field of an entity (an article's `body`, an
    /// annotation's `note`): insert a run between two characters, or delete characters by id
    /// (``TextSequence``).
    case text(EntityRef, field: String, TextEdit)
    /// An op kind from a newer version: its payload kept byte for byte and passed on, never
    /// dropped; its entity (from the envelope) says where it belongs.
    case unknown(kind: UInt8, entity: EntityRef, payload: [UInt8])

    public var entity: EntityRef {
        switch self {
        case .assign(let e, _), .setAdd(let e, _, _), .setRemove(let e, _, _, _), .text(let e, _, _), .unknown(_, let e, _): e
        }
    }
}

/// One recorded change. Ops are the unit of sync; materialized state is a function of the set
/// of ops a store holds, whatever order they arrived in.
///
/// What every version of the fleet understands about an op — who made it and when, which entity
/// and article it belongs to, whether it counts as work on that article, what its author had seen
/// — is its *envelope*; only the payload depends on the kind (Protocol.md, "Op envelope").
///
/// ```swift
/// let op = Op(id: OpID(replica: me, counter: 7), hlc: clock,
///             body: .assign(.article(id), [FieldWrite("title", .string("…"), prev: [old])]))
/// op.countsAsWork   // true: a title edit is work on the article (rule 3)
/// ```
public struct Op: Hashable, Sendable {
    public let id: OpID
    public let hlc: HLC
    public let body: OpBody
    /// The author's version vector when the op was made. Only carried where causality must be
    /// known exactly (moving an article to the trash), so that work the author had not seen is
    /// recognised as concurrent.
    public let context: VersionVector?
    /// Whether the op is someone's work on its owning article (rule 3: a trash that did not see
    /// it is a conflict). Decided by the author's version and carried in the envelope, so that
    /// every version computes the same trash conflicts.
    public let countsAsWork: Bool
    /// The encoded body exactly as a frame carried it, when the frame's encoding is the op log's
    /// (format 2): the store keeps these bytes instead of encoding the op again. Nil for an op
    /// made here or read from an older format. Not part of the op's identity (`==`, `hash`).
    public let encodedBody: ArraySlice<UInt8>?

    /// `countsAsWork` defaults to what the rules of the known kinds say (``TrashRule/isWork(_:)``);
    /// an op of an unknown kind takes it from its envelope.
    public init(
        id: OpID, hlc: HLC, body: OpBody, context: VersionVector? = nil, countsAsWork: Bool? = nil,
        encodedBody: ArraySlice<UInt8>? = nil
    ) {
        self.id = id
        self.hlc = hlc
        self.body = body
        self.context = context
        self.countsAsWork = countsAsWork ?? TrashRule.isWork(body)
        self.encodedBody = encodedBody
    }

    public static func == (a: Op, b: Op) -> Bool {
        a.id == b.id && a.hlc == b.hlc && a.body == b.body && a.context == b.context && a.countsAsWork == b.countsAsWork
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(hlc)
        hasher.combine(body)
        hasher.combine(context)
        hasher.combine(countsAsWork)
    }

    public var entity: EntityRef { body.entity }

    public var stamp: Stamp { Stamp(hlc: hlc, op: id) }
}
