/// The whole state as a list of spans, and back: what a store saves and a snapshot carries.
extension TextSequence {
    /// Characters of one replica with consecutive seqs, next to each other in the text, all
    /// deleted or all visible, each typed right after the one before it.
    public struct Span: Hashable, Sendable {
        public let id: CharID
        public let left: CharID?
        public let right: CharID?
        public let deleted: Bool
        public let text: [Unicode.Scalar]

        public init(id: CharID, left: CharID?, right: CharID?, deleted: Bool, text: [Unicode.Scalar]) {
            self.id = id
            self.left = left
            self.right = right
            self.deleted = deleted
            self.text = text
        }
    }

    /// The spans in text order, tombstones included, joined wherever two could be one: the same
    /// edits give the same spans on every replica, whatever order they arrived in.
    public var spans: [Span] {
        var runs: [Run] = []
        for chunk in chunks {
            for run in chunk.runs {
                if let last = runs.last, Self.canJoin(last, run) {
                    runs[runs.count - 1].length += run.length
                } else {
                    runs.append(run)
                }
            }
        }
        return runs.map { run in
            let chars = content[Int(run.agent)]
            let text = (0..<Int(run.length)).map { Unicode.Scalar(chars[Int(run.seq) + $0])! }
            return Span(
                id: CharID(replica: replicas[Int(run.agent)], seq: run.seq), left: charID(run.left), right: charID(run.right),
                deleted: run.deleted, text: text)
        }
    }

    /// A text from its spans (as ``spans`` gave them). Nil when they do not describe a text:
    /// an origin that is not one of its characters, a character twice, an empty span.
    public init?(spans: [Span]) {
        var table: [ReplicaID] = []
        var index: [ReplicaID: UInt32] = [:]
        func packed(_ id: CharID) -> PackedChar {
            if index[id.replica] == nil {
                index[id.replica] = UInt32(table.count)
                table.append(id.replica)
            }
            return PackedChar(replica: index[id.replica]!, seq: id.seq)
        }
        var packedSpans: [PackedSpan] = []
        for span in spans {
            guard span.text.count < Int(UInt32.max) else { return nil }
            let id = packed(span.id)
            packedSpans.append(
                PackedSpan(
                    replica: id.replica, seq: id.seq, length: UInt32(span.text.count), deleted: span.deleted,
                    left: span.left.map(packed), right: span.right.map(packed)))
        }
        self.init(replicas: table, spans: packedSpans, text: spans.lazy.flatMap(\.text))
    }
}

extension TextSequence {
    /// The fewest edits that rebuild this text with every id, origin and tombstone: one insert
    /// per run of characters typed one after the other (whether or not some were deleted since),
    /// then one delete of everything deleted. Ordered by replica and seq, which is causal within a
    /// replica; a replica applying them in any order converges (edits wait for their origins).
    public var historyEdits: [TextEdit] {
        struct Typed {
            var id: CharID
            var left: CharID?
            var right: CharID?
            var text: [Unicode.Scalar]
        }
        var typed: [Typed] = []
        var deleted: [CharRange] = []
        for span in spans {
            if span.deleted {
                if let last = deleted.last, last.replica == span.id.replica, last.seq + last.count == span.id.seq {
                    deleted[deleted.count - 1] = CharRange(replica: last.replica, seq: last.seq, count: last.count + UInt32(span.text.count))
                } else {
                    deleted.append(CharRange(replica: span.id.replica, seq: span.id.seq, count: UInt32(span.text.count)))
                }
            }
            if var last = typed.last, last.id.replica == span.id.replica, last.id.seq + UInt32(last.text.count) == span.id.seq,
                span.left == CharID(replica: last.id.replica, seq: span.id.seq - 1), span.right == last.right
            {
                last.text.append(contentsOf: span.text)
                typed[typed.count - 1] = last
            } else {
                typed.append(Typed(id: span.id, left: span.left, right: span.right, text: span.text))
            }
        }
        typed.sort { $0.id < $1.id }
        var edits = typed.map { TextEdit.insert(TextInsert(id: $0.id, left: $0.left, right: $0.right, text: $0.text)) }
        if !deleted.isEmpty { edits.append(.delete(TextDelete(ranges: deleted))) }
        return edits
    }
}

extension TextSequence {
    /// A span with its replicas as indexes into a table: the shape the state encoding stores,
    /// read and written without a per-span array.
    public struct PackedSpan: Hashable, Sendable {
        public var replica: UInt32
        public var seq: UInt32
        public var length: UInt32
        public var deleted: Bool
        /// (replica index, seq) of the origins; nil at the start / end.
        public var left: PackedChar?
        public var right: PackedChar?

        public init(replica: UInt32, seq: UInt32, length: UInt32, deleted: Bool, left: PackedChar?, right: PackedChar?) {
            self.replica = replica
            self.seq = seq
            self.length = length
            self.deleted = deleted
            self.left = left
            self.right = right
        }
    }

    public struct PackedChar: Hashable, Sendable {
        public var replica: UInt32
        public var seq: UInt32
        public init(replica: UInt32, seq: UInt32) {
            self.replica = replica
            self.seq = seq
        }
    }

    /// ``spans`` with the replicas that appear in them as a table in ascending order (so the
    /// same state gives the same table and indexes everywhere), and every span's characters in
    /// one string.
    public var packedSpans: (replicas: [ReplicaID], spans: [PackedSpan], text: String.UnicodeScalarView) {
        var runs: [Run] = []
        for chunk in chunks {
            for run in chunk.runs {
                if let last = runs.last, Self.canJoin(last, run) {
                    runs[runs.count - 1].length += run.length
                } else {
                    runs.append(run)
                }
            }
        }
        var used = Set<UInt32>()
        for run in runs {
            used.insert(run.agent)
            if run.left != Self.none { used.insert(Self.agent(of: run.left)) }
            if run.right != Self.none { used.insert(Self.agent(of: run.right)) }
        }
        let table = used.sorted { replicas[Int($0)] < replicas[Int($1)] }
        var index = [UInt32](repeating: 0, count: replicas.count)
        for (i, a) in table.enumerated() { index[Int(a)] = UInt32(i) }
        func packed(_ p: UInt64) -> PackedChar? {
            p == Self.none ? nil : PackedChar(replica: index[Int(Self.agent(of: p))], seq: Self.seq(of: p))
        }
        var text = String.UnicodeScalarView()
        var spans: [PackedSpan] = []
        spans.reserveCapacity(runs.count)
        for run in runs {
            spans.append(
                PackedSpan(
                    replica: index[Int(run.agent)], seq: run.seq, length: run.length, deleted: run.deleted, left: packed(run.left),
                    right: packed(run.right)))
            let chars = content[Int(run.agent)]
            for i in Int(run.seq)..<Int(run.seq + run.length) { text.append(Unicode.Scalar(chars[i])!) }
        }
        return (table.map { replicas[Int($0)] }, spans, text)
    }

    /// A text from packed spans and their characters, one after the other. Nil when they do not
    /// describe a text (an index past the table, an origin it does not hold, a character twice,
    /// too few or too many characters).
    public init?(replicas table: [ReplicaID], spans packed: [PackedSpan], text: some Sequence<Unicode.Scalar>) {
        self.init()
        for replica in table { _ = agent(for: replica) }
        guard agentIndex.count == table.count else { return nil }  // a replica twice
        var iterator = text.makeIterator()
        var runs: [Run] = []
        runs.reserveCapacity(packed.count)
        for span in packed {
            guard span.length > 0, span.replica < table.count, UInt64(span.seq) + UInt64(span.length) <= UInt64(UInt32.max) else { return nil }
            let a = Int(span.replica)
            let end = Int(span.seq) + Int(span.length)
            if content[a].count < end { content[a].append(contentsOf: repeatElement(Self.absent, count: end - content[a].count)) }
            for i in Int(span.seq)..<end {
                guard content[a][i] == Self.absent, let scalar = iterator.next() else { return nil }
                content[a][i] = scalar.value
            }
            func origin(_ c: PackedChar?) -> UInt64? {
                guard let c else { return Self.none }
                return c.replica < table.count ? Self.pack(c.replica, c.seq) : nil
            }
            guard let left = origin(span.left), let right = origin(span.right) else { return nil }
            runs.append(Run(agent: span.replica, seq: span.seq, length: span.length, deleted: span.deleted, left: left, right: right))
        }
        guard iterator.next() == nil else { return nil }
        for run in runs where !has(run.left) || !has(run.right) { return nil }
        var start = 0
        while start < runs.count {
            let slice = Array(runs[start..<min(start + Self.maxRunsPerChunk / 2, runs.count)])
            chunks.append(Self.chunk(slice))
            start += slice.count
        }
        count = chunks.reduce(0) { $0 + $1.visible }
        totalCount = chunks.reduce(0) { $0 + $1.total }
    }
}
