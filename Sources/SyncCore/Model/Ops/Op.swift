/// The content of an op.
public enum OpBody: Hashable, Sendable {
    /// Last-writer-wins writes to one or more fields of an entity (creation is a write of all
    /// its fields).
    case assign(EntityRef, [FieldWrite])
    /// Add an element to an add-wins set (`tags` of an article, `members` of a collection).
    case setAdd(EntityRef, set: String, element: String)
    /// Remove the adds of `element` that the author had observed; a concurrent add survives.
    case setRemove(EntityRef, set: String, element: String, observed: [OpID])
    /// An op kind from a newer format: kept byte for byte and passed on, never dropped.
    case unknown(kind: UInt8, payload: [UInt8])

    public var entity: EntityRef? {
        switch self {
        case .assign(let e, _), .setAdd(let e, _, _), .setRemove(let e, _, _, _): e
        case .unknown: nil
        }
    }
}

/// One recorded change. Ops are the unit of sync; materialized state is a function of the set
/// of ops a store holds, whatever order they arrived in.
///
/// ```swift
/// let op = Op(id: OpID(replica: me, counter: 7), hlc: clock,
///             body: .assign(.article(id), [FieldWrite("title", .string("…"), prev: [old])]))
/// ```
public struct Op: Hashable, Sendable {
    public let id: OpID
    public let hlc: HLC
    public let body: OpBody
    /// The author's version vector when the op was made. Only carried where causality must be
    /// known exactly (moving an article to the trash), so that work the author had not seen is
    /// recognised as concurrent.
    public let context: VersionVector?

    public init(id: OpID, hlc: HLC, body: OpBody, context: VersionVector? = nil) {
        self.id = id
        self.hlc = hlc
        self.body = body
        self.context = context
    }

    public var stamp: Stamp { Stamp(hlc: hlc, op: id) }
}
