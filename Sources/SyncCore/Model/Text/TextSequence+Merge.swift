/// Applying edits from anywhere: the merge rule.
extension TextSequence {
    public enum ApplyResult: Equatable, Sendable {
        /// The edit changed the text (or its tombstones).
        case applied
        /// Already applied: nothing changed.
        case duplicate
        /// A character it needs has not arrived; kept and applied when it does.
        case waiting
    }

    /// Applies one edit, in any order with any other edits: the same set of edits gives the same
    /// text on every replica. An edit whose origins or targets have not arrived waits (see
    /// ``pendingCount``) and is applied, with everything waiting on it, as soon as they do.
    @discardableResult
    public mutating func apply(_ edit: TextEdit) -> ApplyResult {
        let result = applyNow(edit)
        switch result {
        case .waiting: park(edit)
        case .applied:
            // What waited for this edit's characters, and in turn for theirs: a work list, not
            // recursion, so a long chain of late edits needs no deep stack.
            var ready = woken(by: edit)
            while let next = ready.popLast() {
                switch applyNow(next) {
                case .waiting: park(next)
                case .applied: ready.append(contentsOf: woken(by: next))
                case .duplicate: break
                }
            }
        case .duplicate: break
        }
        return result
    }

    /// Files `edit` under the first character it needs that is missing.
    mutating func park(_ edit: TextEdit) {
        guard let missing = firstMissing(edit) else { return }
        pending[missing, default: []].append(edit)
        pendingCount += 1
    }

    mutating func firstMissing(_ edit: TextEdit) -> UInt64? {
        switch edit {
        case .insert(let insert):
            for origin in [insert.left, insert.right] {
                guard let origin else { continue }
                let p = Self.pack(agent(for: origin.replica), origin.seq)
                if !has(p) { return p }
            }
        case .delete(let delete):
            for range in delete.ranges {
                let a = agent(for: range.replica)
                for k in 0..<range.count where !has(Self.pack(a, range.seq + k)) { return Self.pack(a, range.seq + k) }
            }
        }
        return nil
    }

    /// The edits that waited for one of the characters `edit` inserted, taken out of waiting.
    mutating func woken(by edit: TextEdit) -> [TextEdit] {
        guard !pending.isEmpty, case .insert(let insert) = edit, let a = agentIndex[insert.id.replica] else { return [] }
        let seq = insert.id.seq
        let length = UInt32(insert.text.count)
        var ready: [TextEdit] = []
        var keys: [UInt64] = []
        if Int(length) <= pending.count {
            for k in 0..<length where pending[Self.pack(a, seq + k)] != nil { keys.append(Self.pack(a, seq + k)) }
        } else {
            keys = pending.keys.filter { Self.agent(of: $0) == a && Self.seq(of: $0) >= seq && Self.seq(of: $0) - seq < length }
        }
        for key in keys {
            let edits = pending.removeValue(forKey: key)!
            ready.append(contentsOf: edits)
            pendingCount -= edits.count
        }
        return ready
    }

    mutating func applyNow(_ edit: TextEdit) -> ApplyResult {
        switch edit {
        case .insert(let insert): integrate(insert)
        case .delete(let delete): integrate(delete)
        }
    }

    mutating func integrate(_ insert: TextInsert) -> ApplyResult {
        guard !insert.text.isEmpty else { return .duplicate }
        let a = agent(for: insert.id.replica)
        let first = Self.pack(a, insert.id.seq)
        if has(first) { return .duplicate }
        guard let left = packed(insert.left), let right = packed(insert.right), has(left), has(right) else { return .waiting }
        let run = Run(agent: a, seq: insert.id.seq, length: UInt32(insert.text.count), deleted: false, left: left, right: right)
        let destination = integrationLocation(of: run, agentID: insert.id.replica)
        store(insert.text, agent: a, seq: insert.id.seq)
        self.insert(run, before: destination)
        return .applied
    }

    mutating func store(_ text: [Unicode.Scalar], agent a: UInt32, seq: UInt32) {
        let end = Int(seq) + text.count
        if content[Int(a)].count < end {
            content[Int(a)].append(contentsOf: repeatElement(Self.absent, count: end - content[Int(a)].count))
        }
        var i = Int(seq)
        for scalar in text {
            content[Int(a)][i] = scalar.value
            i += 1
        }
    }

    /// Where a new run goes among all characters: FugueMax / YjsMod. Between its origins there
    /// may be runs that others inserted concurrently; the scan decides, for each, whether the new
    /// run goes before it, from where each run's own origins sit relative to ours.
    func integrationLocation(of run: Run, agentID: ReplicaID) -> Location? {
        let start: Location? = run.left == Self.none ? startLocation : location(after: locate(id: run.left)!)
        let end: Location? = run.right == Self.none ? nil : locate(id: run.right)!
        if start == end { return start }

        // The runs strictly between the origins, each as (first char's id, its left origin,
        // right origin, length), cut at the origins.
        struct Slice {
            var at: Location
            var agent: UInt32
            var seq: UInt32
            var length: UInt32
            var left: UInt64
            var right: UInt64
            func contains(_ packed: UInt64) -> Bool {
                let a = TextSequence.agent(of: packed)
                let s = TextSequence.seq(of: packed)
                return a == agent && s >= seq && s - seq < length
            }
        }
        var slices: [Slice] = []
        var cursor = start
        while let loc = cursor, loc != end {
            let r = chunks[loc.chunk].runs[loc.run]
            var take = r.length - loc.offset
            if let end, end.chunk == loc.chunk, end.run == loc.run, end.offset > loc.offset { take = end.offset - loc.offset }
            let left = loc.offset == 0 ? r.left : r.id(at: loc.offset - 1)
            slices.append(Slice(at: loc, agent: r.agent, seq: r.seq + loc.offset, length: take, left: left, right: r.right))
            cursor = location(after: Location(chunk: loc.chunk, run: loc.run, offset: loc.offset + take - 1))
        }

        var destination = start
        var scanning = false
        for (k, other) in slices.enumerated() {
            if !scanning { destination = other.at }
            // Where the other run's left origin sits relative to ours: the same character, one
            // of the runs scanned so far (after ours), or before ours.
            let leftOrder: Int
            if other.left == run.left {
                leftOrder = 0
            } else if other.left != Self.none, slices[..<k].contains(where: { $0.contains(other.left) }) {
                leftOrder = 1
            } else {
                leftOrder = -1
            }
            if leftOrder < 0 { return destination }
            if leftOrder == 0 {
                // And its right origin relative to ours: the same, one of the runs still ahead
                // (before ours), or past ours.
                let rightOrder: Int
                if other.right == run.right {
                    rightOrder = 0
                } else if other.right != Self.none, slices[(k + 1)...].contains(where: { $0.contains(other.right) }) {
                    rightOrder = -1
                } else {
                    rightOrder = 1
                }
                if rightOrder < 0 {
                    scanning = true
                } else if rightOrder == 0 {
                    if agentID < replicas[Int(other.agent)] { return destination }
                    scanning = false
                } else {
                    scanning = false
                }
            }
        }
        return scanning ? destination : end
    }

    mutating func integrate(_ delete: TextDelete) -> ApplyResult {
        // All or nothing: wait until every character it names has arrived.
        var ranges: [(agent: UInt32, seq: UInt32, count: UInt32)] = []
        for range in delete.ranges where range.count > 0 {
            guard let a = agentIndex[range.replica] else { return .waiting }
            let chars = content[Int(a)]
            let end = Int(range.seq) + Int(range.count)
            guard end <= chars.count, !chars[Int(range.seq)..<end].contains(Self.absent) else { return .waiting }
            ranges.append((a, range.seq, range.count))
        }
        var changed = false
        for range in ranges {
            var seq = range.seq
            let end = range.seq + range.count
            while seq < end {
                let loc = locate(id: Self.pack(range.agent, seq))!
                hintChunk = loc.chunk
                let run = chunks[loc.chunk].runs[loc.run]
                let n = min(run.length - loc.offset, end - seq)
                if !run.deleted {
                    markDeleted(at: loc, length: n)
                    changed = true
                }
                seq += n
            }
        }
        return changed ? .applied : .duplicate
    }
}
