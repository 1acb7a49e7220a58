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
        self.init()
        var runs: [Run] = []
        for span in spans {
            guard !span.text.isEmpty, span.text.count < Int(UInt32.max) else { return nil }
            let a = agent(for: span.id.replica)
            let end = UInt64(span.id.seq) + UInt64(span.text.count)
            guard end <= UInt64(UInt32.max) else { return nil }
            if Int(span.id.seq) < content[Int(a)].count,
                content[Int(a)][Int(span.id.seq)..<min(Int(end), content[Int(a)].count)].contains(where: { $0 != Self.absent })
            {
                return nil
            }
            store(span.text, agent: a, seq: span.id.seq)
            // Origins are checked once every span is in (a right origin comes later in the text).
            runs.append(
                Run(
                    agent: a, seq: span.id.seq, length: UInt32(span.text.count), deleted: span.deleted,
                    left: span.left.map { Self.pack(agent(for: $0.replica), $0.seq) } ?? Self.none,
                    right: span.right.map { Self.pack(agent(for: $0.replica), $0.seq) } ?? Self.none))
        }
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
