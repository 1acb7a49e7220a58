/// An add-wins (observed-remove) set: the merge rule for tags and collection membership.
///
/// Every add is identified by its op id. A remove names the adds it observed and removes only
/// those, so an add made concurrently on another laptop survives. Like ``LWWRegister``, the
/// state depends only on the set of ops: a remove that arrives before the add it observed
/// leaves a tombstone the add lands on.
///
/// ```swift
/// var tags = AddWinsSet()
/// tags.add("gaza", id: a1)
/// tags.remove("gaza", observed: [a1])   // on replica A
/// tags.add("gaza", id: b1)                // concurrently on replica B
/// tags.elements                           // ["gaza"]
/// ```
public struct AddWinsSet: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var element: String
        public var added: Bool
        public var removed: Bool
        public init(element: String, added: Bool, removed: Bool) {
            self.element = element; self.added = added; self.removed = removed
        }
    }

    public private(set) var entries: [OpID: Entry]

    public init(entries: [OpID: Entry] = [:]) { self.entries = entries }

    @discardableResult
    public mutating func add(_ element: String, id: OpID) -> Entry {
        var entry = entries[id] ?? Entry(element: element, added: false, removed: false)
        entry.added = true
        entries[id] = entry
        return entry
    }

    @discardableResult
    public mutating func remove(_ element: String, observed: [OpID]) -> [(OpID, Entry)] {
        var observed = observed
        if MergeFaults.active.contains(.removeWins) {
            // TEST-ONLY fault: remove every add of the element held now, observed or not.
            observed = Array(Swift.Set(observed).union(entries.filter { $0.value.element == element }.map(\.key))).sorted()
        }
        return observed.map { id in
            var entry = entries[id] ?? Entry(element: element, added: false, removed: false)
            entry.removed = true
            entries[id] = entry
            return (id, entry)
        }
    }

    /// The adds of `element` that are still live: what a remove made now must observe.
    public func liveAdds(of element: String) -> [OpID] {
        entries.filter { $0.value.element == element && $0.value.added && !$0.value.removed }.map(\.key).sorted()
    }

    public var elements: [String] {
        Array(Set(entries.values.filter { $0.added && !$0.removed }.map(\.element))).sorted()
    }
}
