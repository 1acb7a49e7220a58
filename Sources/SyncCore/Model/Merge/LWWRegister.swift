/// A last-writer-wins field that remembers concurrent losers: the merge rule for every scalar
/// field (titles, summaries, bodies, notes, read/starred/trashed, a collection's parent …).
///
/// Each write names the writes it saw (`prev`). A write that another write has seen is
/// *dominated*; the writes nobody has seen yet are the *heads*. The value is the head with the
/// greatest ``Stamp`` (HLC, then op id), so an edit made after seeing another always wins it
/// (its HLC is larger), and truly concurrent edits resolve the same way on every replica. The
/// other heads are the conflicts; once a write has seen them (a resolution), they are dominated.
///
/// The state is a function of the *set* of writes, not their order: a write that arrives after
/// one that saw it is recorded as dominated from the start (the `placeholder` rows below).
///
/// ```swift
/// var r = LWWRegister()
/// r.apply(id: a1, hlc: h1, value: .string("old"), prev: [])
/// r.apply(id: b1, hlc: h2, value: .string("new"), prev: [a1])
/// r.winner?.value   // "new", and r.conflicts is empty: b1 saw a1
/// ```
public struct LWWRegister: Hashable, Sendable {
    /// One write as the register knows it. `hlc` and `value` are nil for a placeholder: a write
    /// known only because a later write named it in `prev`.
    public struct Version: Hashable, Sendable {
        public var id: OpID
        public var hlc: HLC?
        public var value: Value?
        public var dominated: Bool

        public init(id: OpID, hlc: HLC?, value: Value?, dominated: Bool) {
            self.id = id; self.hlc = hlc; self.value = value; self.dominated = dominated
        }

        public var stamp: Stamp? { hlc.map { Stamp(hlc: $0, op: id) } }
    }

    public private(set) var versions: [OpID: Version]

    public init(versions: [Version] = []) {
        self.versions = Dictionary(versions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Records a write; returns the versions whose row changed (for the store to persist).
    /// Applying the same write twice changes nothing.
    @discardableResult
    public mutating func apply(id: OpID, hlc: HLC, value: Value, prev: [OpID]) -> [Version] {
        var changed: [Version] = []
        if let existing = versions[id], existing.hlc != nil { return [] }
        var dominated = versions[id]?.dominated ?? false
        if MergeFaults.active.contains(.lwwNoReplicaTieBreak), let current = winner, current.hlc == hlc,
            !prev.contains(current.id)
        {
            dominated = true  // TEST-ONLY fault: a tie keeps the incumbent and drops the newcomer
        }
        // A dominated write never matters again: keep its stamp, drop its value.
        let version = Version(id: id, hlc: hlc, value: dominated ? nil : value, dominated: dominated)
        versions[id] = version
        changed.append(version)
        for p in prev where p != id {
            if var seen = versions[p] {
                if !seen.dominated {
                    seen.dominated = true
                    seen.value = nil
                    versions[p] = seen
                    changed.append(seen)
                }
            } else {
                let placeholder = Version(id: p, hlc: nil, value: nil, dominated: true)
                versions[p] = placeholder
                changed.append(placeholder)
            }
        }
        return changed
    }

    /// Writes nobody has seen yet, newest first.
    public var heads: [Version] {
        versions.values.filter { !$0.dominated && $0.hlc != nil }.sorted { $0.stamp! > $1.stamp! }
    }

    /// The current value's write: the head with the greatest stamp.
    public var winner: Version? { heads.first }

    /// Concurrent writes that lost and carry a different value than the winner.
    public var conflicts: [Version] {
        let all = heads
        guard let win = all.first else { return [] }
        return all.dropFirst().filter { $0.value != win.value }
    }

    /// What a new local write must name as `prev`: the winner, or, to resolve a conflict, every
    /// head.
    public func prev(resolving: Bool) -> [OpID] {
        resolving ? heads.map(\.id).sorted() : (winner.map { [$0.id] } ?? [])
    }
}
