/// A text that merges character by character: a sequence CRDT with FugueMax ordering (the
/// "YjsMod" integration rule of Eg-walker and diamond-types), kept as runs of characters.
///
/// Every character has an id (``CharID``) and remembers the two characters it was typed between
/// (its *origins*). Concurrent insertions at the same place are ordered by the origins first and
/// by replica id last, so that two people typing at the same place produce two blocks, never a
/// mix of their characters, and every replica that has the same edits has the same text, in
/// whatever order the edits arrived. Deleted characters stay as tombstones (they may still be
/// someone's origin or a highlight's edge).
///
/// Pure: no storage, no I/O. A run is what one insert made (a pasted paragraph is one run), split
/// only where a later edit lands inside it.
///
/// ```swift
/// var a = TextSequence()
/// let hello = a.insert("Hello", at: 0, by: me)       // a TextInsert to send
/// var b = TextSequence()
/// b.apply(.insert(hello))                           // .applied
/// b.text == a.text                                  // true
/// ```
public struct TextSequence: Sendable {
    /// One run: characters `seq ..< seq + length` of replica `agent`, in document order. The first
    /// character's left origin is `left`; every later one's is the character before it; all share
    /// the right origin `right`.
    struct Run: Sendable {
        var agent: UInt32
        var seq: UInt32
        var length: UInt32
        var deleted: Bool
        var left: UInt64
        var right: UInt64

        func id(at offset: UInt32) -> UInt64 { TextSequence.pack(agent, seq &+ offset) }
        var lastID: UInt64 { id(at: length - 1) }
        var visible: Int { deleted ? 0 : Int(length) }

        func contains(agent a: UInt32, seq s: UInt32) -> Bool {
            a == agent && s >= seq && s - seq < length
        }
    }

    struct Chunk: Sendable {
        var runs: [Run]
        var visible: Int
        var total: Int
    }

    struct Location: Equatable {
        var chunk: Int
        var run: Int
        var offset: UInt32
    }

    static let none = UInt64.max
    static let maxRunsPerChunk = 128

    static func pack(_ agent: UInt32, _ seq: UInt32) -> UInt64 { UInt64(agent) << 32 | UInt64(seq) }
    static func agent(of packed: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: packed >> 32) }
    static func seq(of packed: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: packed) }

    /// Replicas that typed into this text, by first appearance; runs name them by index.
    var replicas: [ReplicaID] = []
    var agentIndex: [ReplicaID: UInt32] = [:]
    /// Per agent, the characters by seq (`absent` where that seq has not arrived).
    var content: [[UInt32]] = []
    var chunks: [Chunk] = []
    /// Edits that arrived before a character they need, filed under that character; applied as
    /// soon as it arrives.
    var pending: [UInt64: [TextEdit]] = [:]
    /// Where the last lookup ended: edits cluster, so the next one usually lands near it.
    var hintChunk = 0

    static let absent = UInt32.max

    public internal(set) var count = 0
    public internal(set) var totalCount = 0

    public init() {}

    /// The visible text.
    public var scalars: [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(count)
        for chunk in chunks {
            for run in chunk.runs where !run.deleted {
                let chars = content[Int(run.agent)]
                for i in 0..<Int(run.length) { out.append(Unicode.Scalar(chars[Int(run.seq) + i])!) }
            }
        }
        return out
    }

    public var text: String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Edits waiting for characters that have not arrived yet.
    public internal(set) var pendingCount = 0

    // MARK: agents

    mutating func agent(for replica: ReplicaID) -> UInt32 {
        if let a = agentIndex[replica] { return a }
        let a = UInt32(replicas.count)
        replicas.append(replica)
        agentIndex[replica] = a
        content.append([])
        return a
    }

    func packed(_ id: CharID?) -> UInt64? {
        guard let id else { return Self.none }
        guard let a = agentIndex[id.replica] else { return nil }
        return Self.pack(a, id.seq)
    }

    func charID(_ packed: UInt64) -> CharID? {
        packed == Self.none ? nil : CharID(replica: replicas[Int(Self.agent(of: packed))], seq: Self.seq(of: packed))
    }

    func has(_ packed: UInt64) -> Bool {
        if packed == Self.none { return true }
        let chars = content[Int(Self.agent(of: packed))]
        let s = Int(Self.seq(of: packed))
        return s < chars.count && chars[s] != Self.absent
    }

    /// The next seq `replica` would give a character it types here.
    public func nextSeq(for replica: ReplicaID) -> UInt32 {
        guard let a = agentIndex[replica] else { return 0 }
        return UInt32(content[Int(a)].count)
    }

    // MARK: finding characters

    /// The run holding character `packed`, searching from where the last lookup ended.
    func locate(id packed: UInt64) -> Location? {
        let a = Self.agent(of: packed)
        let s = Self.seq(of: packed)
        let n = chunks.count
        guard n > 0 else { return nil }
        let start = min(hintChunk, n - 1)
        func find(in c: Int) -> Location? {
            let runs = chunks[c].runs
            for r in runs.indices where runs[r].contains(agent: a, seq: s) {
                return Location(chunk: c, run: r, offset: s - runs[r].seq)
            }
            return nil
        }
        // Outward from the hint: start, start+1, start-1, start+2 …
        var delta = 0
        while start + delta < n || start - delta >= 0 {
            if start + delta < n, let loc = find(in: start + delta) { return loc }
            if delta > 0, start - delta >= 0, let loc = find(in: start - delta) { return loc }
            delta += 1
        }
        return nil
    }

    /// Index among all characters (tombstones included) of a location.
    func fullIndex(_ loc: Location) -> Int {
        var index = 0
        for c in 0..<loc.chunk { index += chunks[c].total }
        let runs = chunks[loc.chunk].runs
        for r in 0..<loc.run { index += Int(runs[r].length) }
        return index + Int(loc.offset)
    }

    /// The location of the character at `index` among all characters; `nil` past the end.
    func location(fullIndex index: Int) -> Location? {
        var rest = index
        for c in chunks.indices {
            let chunk = chunks[c]
            if rest >= chunk.total { rest -= chunk.total; continue }
            for r in chunk.runs.indices {
                let length = Int(chunk.runs[r].length)
                if rest < length { return Location(chunk: c, run: r, offset: UInt32(rest)) }
                rest -= length
            }
        }
        return nil
    }

    /// The location of the visible character at `index`.
    func location(visibleIndex index: Int) -> Location? {
        var rest = index
        for c in chunks.indices {
            let chunk = chunks[c]
            if rest >= chunk.visible { rest -= chunk.visible; continue }
            for r in chunk.runs.indices where !chunk.runs[r].deleted {
                let length = Int(chunk.runs[r].length)
                if rest < length { return Location(chunk: c, run: r, offset: UInt32(rest)) }
                rest -= length
            }
        }
        return nil
    }

    func id(at loc: Location) -> UInt64 { chunks[loc.chunk].runs[loc.run].id(at: loc.offset) }

    // MARK: changing runs

    /// Splits the run at `loc` so that `loc` starts a run; returns that run's location.
    mutating func split(at loc: Location) -> Location {
        guard loc.offset > 0 else { return loc }
        let run = chunks[loc.chunk].runs[loc.run]
        var head = run
        head.length = loc.offset
        var tail = run
        tail.seq = run.seq + loc.offset
        tail.length = run.length - loc.offset
        tail.left = run.id(at: loc.offset - 1)
        chunks[loc.chunk].runs[loc.run] = head
        chunks[loc.chunk].runs.insert(tail, at: loc.run + 1)
        let next = Location(chunk: loc.chunk, run: loc.run + 1, offset: 0)
        return rebalance(keeping: next)
    }

    /// The location right after `loc`; nil at the end of the text.
    func location(after loc: Location) -> Location? {
        let runs = chunks[loc.chunk].runs
        if loc.offset + 1 < runs[loc.run].length { return Location(chunk: loc.chunk, run: loc.run, offset: loc.offset + 1) }
        if loc.run + 1 < runs.count { return Location(chunk: loc.chunk, run: loc.run + 1, offset: 0) }
        return loc.chunk + 1 < chunks.count ? Location(chunk: loc.chunk + 1, run: 0, offset: 0) : nil
    }

    /// The first character's location; nil for an empty sequence.
    var startLocation: Location? { chunks.isEmpty ? nil : Location(chunk: 0, run: 0, offset: 0) }

    /// Inserts `run` before the character at `loc` (at the end when nil).
    mutating func insert(_ run: Run, before loc: Location?) {
        var at: Location
        if let loc {
            at = split(at: loc)
        } else if chunks.isEmpty {
            chunks.append(Chunk(runs: [], visible: 0, total: 0))
            at = Location(chunk: 0, run: 0, offset: 0)
        } else {
            at = Location(chunk: chunks.count - 1, run: chunks[chunks.count - 1].runs.count, offset: 0)
        }
        // At a chunk's start, append to the chunk before instead, so that the run can join the
        // one it follows.
        if at.run == 0 && at.chunk > 0 { at = Location(chunk: at.chunk - 1, run: chunks[at.chunk - 1].runs.count, offset: 0) }
        count += run.visible
        totalCount += Int(run.length)
        hintChunk = at.chunk
        if at.run > 0, Self.canJoin(chunks[at.chunk].runs[at.run - 1], run) {
            chunks[at.chunk].runs[at.run - 1].length += run.length
            chunks[at.chunk].visible += run.visible
            chunks[at.chunk].total += Int(run.length)
            coalesce(around: Location(chunk: at.chunk, run: at.run - 1, offset: 0))
            return
        }
        chunks[at.chunk].runs.insert(run, at: at.run)
        chunks[at.chunk].visible += run.visible
        chunks[at.chunk].total += Int(run.length)
        at = rebalance(keeping: at)
        coalesce(around: at)
    }

    /// Splits a chunk that grew too long; returns where `loc` is afterwards.
    mutating func rebalance(keeping loc: Location) -> Location {
        let c = loc.chunk
        guard chunks[c].runs.count > Self.maxRunsPerChunk else { return loc }
        let runs = chunks[c].runs
        let half = runs.count / 2
        let head = Array(runs[..<half])
        let tail = Array(runs[half...])
        chunks[c] = Self.chunk(head)
        chunks.insert(Self.chunk(tail), at: c + 1)
        return loc.run < half ? loc : Location(chunk: c + 1, run: loc.run - half, offset: loc.offset)
    }

    static func chunk(_ runs: [Run]) -> Chunk {
        var visible = 0
        var total = 0
        for run in runs {
            visible += run.visible
            total += Int(run.length)
        }
        return Chunk(runs: runs, visible: visible, total: total)
    }

    static func canJoin(_ a: Run, _ b: Run) -> Bool {
        a.agent == b.agent && a.seq &+ a.length == b.seq && a.deleted == b.deleted && b.left == a.lastID && a.right == b.right
    }

    /// Joins the run at `loc` with its neighbours in the same chunk where they are one run.
    mutating func coalesce(around loc: Location) {
        var r = loc.run
        let c = loc.chunk
        if r + 1 < chunks[c].runs.count, Self.canJoin(chunks[c].runs[r], chunks[c].runs[r + 1]) {
            chunks[c].runs[r].length += chunks[c].runs[r + 1].length
            chunks[c].runs.remove(at: r + 1)
        }
        if r > 0, Self.canJoin(chunks[c].runs[r - 1], chunks[c].runs[r]) {
            chunks[c].runs[r - 1].length += chunks[c].runs[r].length
            chunks[c].runs.remove(at: r)
            r -= 1
        }
    }

    /// Marks `length` characters from `loc` (all in one run) deleted; returns how many were
    /// visible before.
    @discardableResult
    mutating func markDeleted(at loc: Location, length: UInt32) -> Int {
        var start = split(at: loc)
        let run = chunks[start.chunk].runs[start.run]
        if length < run.length {
            _ = split(at: Location(chunk: start.chunk, run: start.run, offset: length))
            // Splitting may have moved the run into the next chunk; find it again.
            start = locate(id: run.id(at: 0))!
        }
        let target = chunks[start.chunk].runs[start.run]
        guard !target.deleted else { return 0 }
        chunks[start.chunk].runs[start.run].deleted = true
        let n = Int(target.length)
        chunks[start.chunk].visible -= n
        count -= n
        coalesce(around: start)
        return n
    }
}
