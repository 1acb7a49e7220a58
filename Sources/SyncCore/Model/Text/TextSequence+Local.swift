/// Edits made here, by position in the visible text: each returns the edit to record and send.
extension TextSequence {
    /// Inserts `text` before the visible character at `position` (at the end when `position` is
    /// ``count``), as characters of `replica`.
    public mutating func insert(_ text: some Collection<Unicode.Scalar>, at position: Int, by replica: ReplicaID) -> TextInsert? {
        precondition(position >= 0 && position <= count, "insert at \(position) in a text of \(count)")
        guard !text.isEmpty else { return nil }
        let a = agent(for: replica)
        // Right after the visible character before `position`, before any tombstones after it.
        let left: UInt64
        let at: Location?
        if position == 0 {
            left = Self.none
            at = startLocation
        } else {
            let loc = location(visibleIndex: position - 1)!
            left = id(at: loc)
            at = location(after: loc)
        }
        let right = at.map { id(at: $0) } ?? Self.none
        let seq = UInt32(content[Int(a)].count)
        let scalars = Array(text)
        let run = Run(agent: a, seq: seq, length: UInt32(scalars.count), deleted: false, left: left, right: right)
        store(scalars, agent: a, seq: seq)
        insert(run, before: at)
        return TextInsert(id: CharID(replica: replica, seq: seq), left: charID(left), right: charID(right), text: scalars)
    }

    public mutating func insert(_ text: String, at position: Int, by replica: ReplicaID) -> TextInsert? {
        insert(text.unicodeScalars, at: position, by: replica)
    }

    /// Deletes the visible characters `range`; returns their ids.
    public mutating func delete(_ range: Range<Int>, by replica: ReplicaID) -> TextDelete? {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "delete \(range) in a text of \(count)")
        guard !range.isEmpty else { return nil }
        var ranges: [CharRange] = []
        var remaining = range.count
        while remaining > 0 {
            let loc = location(visibleIndex: range.lowerBound)!
            let run = chunks[loc.chunk].runs[loc.run]
            let n = min(Int(run.length - loc.offset), remaining)
            let replicaID = replicas[Int(run.agent)]
            let seq = run.seq + loc.offset
            if let last = ranges.last, last.replica == replicaID, last.seq + last.count == seq {
                ranges[ranges.count - 1] = CharRange(replica: replicaID, seq: last.seq, count: last.count + UInt32(n))
            } else {
                ranges.append(CharRange(replica: replicaID, seq: seq, count: UInt32(n)))
            }
            hintChunk = loc.chunk
            markDeleted(at: loc, length: UInt32(n))
            remaining -= n
        }
        return TextDelete(ranges: ranges)
    }

    /// Replaces the visible text with `newText` by the smallest edits a diff finds: a changed
    /// sentence costs that sentence, not the text. Returns the edits, deletes first.
    public mutating func replace(with newText: [Unicode.Scalar], by replica: ReplicaID) -> [TextEdit] {
        let old = scalars
        var edits: [TextEdit] = []
        // Apply from the end so that earlier positions stay valid.
        for change in TextDiff.changes(from: old, to: newText).reversed() {
            if change.deleteCount > 0, let d = delete(change.position..<change.position + change.deleteCount, by: replica) {
                edits.append(.delete(d))
            }
            if !change.inserted.isEmpty, let i = insert(change.inserted, at: change.position, by: replica) {
                edits.append(.insert(i))
            }
        }
        return edits
    }
}
