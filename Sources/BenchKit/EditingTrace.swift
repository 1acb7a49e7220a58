import CZlib
public import Foundation
public import SyncModel

/// An editing trace in the format of josephg/editing-traces (CC BY 4.0; the copies in
/// Tests/Fixtures/traces carry the attribution): the keystrokes of real documents, sequential
/// (one writer) or concurrent (agents typing at the same time, with the causal graph).
///
/// ```swift
/// let trace = try EditingTrace.load("Tests/Fixtures/traces/friendsforever.json.gz")
/// let replay = trace.replay()
/// replay.texts.allSatisfy { $0.text == trace.endContent }   // every agent converged
/// ```
public struct EditingTrace: Sendable {
    public struct Patch: Sendable {
        public let position: Int
        public let deleteCount: Int
        public let insert: [Unicode.Scalar]
    }

    public struct Transaction: Sendable {
        /// Transactions whose merged state this one was typed on; nil in a sequential trace
        /// (the one before it).
        public let parents: [Int]?
        public let agent: Int
        public let patches: [Patch]
    }

    public let startContent: String
    public let endContent: String
    public let agents: Int
    public let transactions: [Transaction]
    public var isConcurrent: Bool { transactions.first?.parents != nil }
    public var patchCount: Int { transactions.reduce(0) { $0 + $1.patches.count } }

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads a trace file, gzip-compressed (`.gz`) or plain JSON.
    public static func load(_ path: String) throws -> EditingTrace {
        guard var data = FileManager.default.contents(atPath: path) else {
            throw FormatError(description: "cannot read \(path)")
        }
        if data.starts(with: [0x1f, 0x8b]) { data = Data(try gunzip(Array(data))) }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let end = object["endContent"] as? String, let txns = object["txns"] as? [[String: Any]]
        else { throw FormatError(description: "\(path): not an editing trace (endContent and txns expected)") }
        var transactions: [Transaction] = []
        transactions.reserveCapacity(txns.count)
        for (i, txn) in txns.enumerated() {
            guard let raw = txn["patches"] as? [[Any]] else { throw FormatError(description: "txn \(i): no patches") }
            var patches: [Patch] = []
            for p in raw {
                guard p.count == 3, let at = p[0] as? Int, let del = p[1] as? Int, let ins = p[2] as? String else {
                    throw FormatError(description: "txn \(i): a patch is not [position, deleteCount, text]")
                }
                patches.append(Patch(position: at, deleteCount: del, insert: Array(ins.unicodeScalars)))
            }
            let parents = txn["parents"] as? [Int]
            if let parents, parents.contains(where: { $0 < 0 || $0 >= i }) {
                throw FormatError(description: "txn \(i): a parent that is not an earlier transaction")
            }
            transactions.append(Transaction(parents: parents, agent: txn["agent"] as? Int ?? 0, patches: patches))
        }
        let agents = (object["numAgents"] as? Int) ?? (transactions.map(\.agent).max() ?? 0) + 1
        return EditingTrace(
            startContent: object["startContent"] as? String ?? "", endContent: end, agents: agents, transactions: transactions)
    }

    /// What a replay made: each agent's text, and every edit in the order it was made (a causal
    /// order).
    public struct Replay: Sendable {
        public var texts: [TextSequence]
        public var edits: [TextEdit]
    }

    /// The replica id of agent `n` in a replay.
    public static func replica(_ n: Int) -> ReplicaID {
        var bytes = [UInt8](repeating: 0, count: 16)
        bytes[0] = 0x7e
        bytes[15] = UInt8(truncatingIfNeeded: n)
        bytes[14] = UInt8(truncatingIfNeeded: n >> 8)
        return ReplicaID(bytes: bytes)!
    }

    /// Replays every patch as a local edit of its agent. In a concurrent trace an agent first
    /// merges the edits of the transactions its next one was typed on (by applying their edits,
    /// as a replica receiving them would), and at the end every agent merges everything.
    public func replay() -> Replay {
        let ids = (0..<agents).map(Self.replica)
        var texts = [TextSequence](repeating: TextSequence(), count: agents)
        var edits: [TextEdit] = []
        edits.reserveCapacity(patchCount + 1)
        func type(_ patch: Patch, on a: Int, into out: inout [TextEdit]) {
            if patch.deleteCount > 0, let d = texts[a].delete(patch.position..<patch.position + patch.deleteCount, by: ids[a]) {
                out.append(.delete(d))
            }
            if !patch.insert.isEmpty, let i = texts[a].insert(patch.insert, at: patch.position, by: ids[a]) {
                out.append(.insert(i))
            }
        }
        if !startContent.isEmpty, let i = texts[0].insert(startContent, at: 0, by: ids[0]) {
            edits.append(.insert(i))
            for a in 1..<max(1, agents) { texts[a].apply(.insert(i)) }
        }
        guard isConcurrent else {
            for txn in transactions { for patch in txn.patches { type(patch, on: 0, into: &edits) } }
            return Replay(texts: texts, edits: edits)
        }
        var byTransaction = [[TextEdit]](repeating: [], count: transactions.count)
        var seen = [[Bool]](repeating: [Bool](repeating: false, count: transactions.count), count: agents)
        for (i, txn) in transactions.enumerated() {
            let a = txn.agent
            var stack = txn.parents ?? []
            var missing: [Int] = []
            while let p = stack.popLast() {
                guard !seen[a][p] else { continue }
                seen[a][p] = true
                missing.append(p)
                stack.append(contentsOf: transactions[p].parents ?? [])
            }
            for p in missing.sorted() { for edit in byTransaction[p] { texts[a].apply(edit) } }
            var made: [TextEdit] = []
            for patch in txn.patches { type(patch, on: a, into: &made) }
            byTransaction[i] = made
            edits.append(contentsOf: made)
            seen[a][i] = true
        }
        for a in 0..<agents {
            for i in transactions.indices where !seen[a][i] { for edit in byTransaction[i] { texts[a].apply(edit) } }
        }
        return Replay(texts: texts, edits: edits)
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer around the deflate stream.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FormatError(description: "zlib refused to start")
        }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        try bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while status != Z_STREAM_END {
                status = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else { throw FormatError(description: "not a gzip stream (zlib \(status))") }
                out.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out > 0 { throw FormatError(description: "gzip stream cut short") }
            }
        }
        return out
    }
}
