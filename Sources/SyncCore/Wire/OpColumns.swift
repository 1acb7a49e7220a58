public import SyncModel

/// The payload of a format-3 ops frame: the ops of a frame taken apart into columns, so that
/// zlib sees like next to like (all quotes together, all notes together, all counters together)
/// and every replica id, entity id and field name is written once per frame and named by a small
/// index after that. Protocol.md, "Format 3 payload: columns", is the normative description.
///
/// ```text
/// payload = u64 base HLC · varint column count · one varint byte length per column · columns
/// columns 0…8 (fixed):  replicas · hlc · kinds · refs · numbers · lengths · raw · entities · names
/// columns 9…  (text):   one per (name, role) in the order the ops first use them
/// ```
///
/// The columns carry exactly what a format-2 op body says (OpCodec), so an op reads back the same
/// and is stored in the op log in its format-2 encoding. An op of a kind this version does not
/// know keeps its payload byte for byte (column `raw`).
///
/// ```swift
/// let payload = OpColumns.encode(ops)                 // ops of one replica, counters ascending
/// let ops = try OpColumns.decode(payload, replica: r, firstCounter: 1, count: n)
/// ```
public enum OpColumns {
    /// The fixed columns, in payload order.
    enum Column: Int, CaseIterable {
        case replicas, hlc, kinds, refs, numbers, lengths, raw, entities, names
    }

    /// What a text column holds for its name: an `assign`'s string values of that field, a set
    /// operation's elements of that set, or a text insert's characters of that field.
    enum Role: UInt8 {
        case value = 0, element = 1, text = 2
    }

    struct TextKey: Hashable {
        let name: Int
        let role: Role
    }

    /// The characters one replica typed into one text (entries of the entity, name and replica
    /// tables): a text insert's seq is written relative to where the previous insert of the same
    /// run key in the frame ended, which is 0 for a replica typing on.
    struct RunKey: Hashable {
        let entity: Int
        let name: Int
        let replica: Int
    }

    // MARK: encoding

    /// The payload for `ops` (one replica, contiguous counters: the caller checked).
    public static func encode(_ ops: [Op]) -> [UInt8] {
        var e = Encoder(origin: ops[0].id.replica)
        var previous = ops[0].hlc.raw
        for op in ops {
            e.columns[Column.hlc.rawValue].zigzag(Int64(bitPattern: op.hlc.raw &- previous))
            previous = op.hlc.raw
            e.add(op)
        }
        var w = ByteWriter(capacity: e.columns.reduce(16) { $0 + $1.bytes.count + 4 })
        w.fixed(ops[0].hlc.raw)
        let all = e.columns + e.texts
        w.varint(UInt64(all.count))
        for column in all { w.varint(UInt64(column.bytes.count)) }
        for column in all { w.raw(column.bytes) }
        return w.bytes
    }

    struct Encoder {
        var columns = [ByteWriter](repeating: ByteWriter(), count: Column.allCases.count)
        var texts: [ByteWriter] = []
        var replicaIndex: [ReplicaID: Int]
        /// Entity ids (entry 0 is the empty parent) and names, each to its entry number.
        var tables: [[String: Int]] = [["": 0], [:]]
        var textIndex: [TextKey: Int] = [:]
        var nextSeq: [RunKey: Int64] = [:]
        var lastReplica: (ReplicaID, Int)?
        var lastEntry: [(String, Int)?] = [nil, nil]
        /// The entity-table entry of the op being written.
        var entityEntry = 0

        init(origin: ReplicaID) { replicaIndex = [origin: 0] }

        mutating func u8(_ column: Column, _ v: UInt8) { columns[column.rawValue].u8(v) }
        mutating func number(_ v: UInt64) { columns[Column.numbers.rawValue].varint(v) }
        mutating func signed(_ v: Int64) { columns[Column.numbers.rawValue].zigzag(v) }
        mutating func length(_ n: Int) { columns[Column.lengths.rawValue].varint(UInt64(n)) }
        mutating func ref(_ r: Int) { columns[Column.refs.rawValue].varint(UInt64(r)) }

        /// Writes a reference to `replica`; returns its entry.
        @discardableResult
        mutating func replica(_ replica: ReplicaID) -> Int {
            // Most references repeat the one before: compare 16 bytes instead of hashing them.
            if let (last, i) = lastReplica, last == replica {
                ref(i + 1)
                return i
            }
            let i: Int
            if let known = replicaIndex[replica] {
                i = known
                ref(i + 1)
            } else {
                i = replicaIndex.count
                ref(0)
                replicaIndex[replica] = i
                columns[Column.replicas.rawValue].raw(replica.bytes)
            }
            lastReplica = (replica, i)
            return i
        }

        /// 0 = the next new entry of the table's column; r ≥ 1 = entry r − 1.
        mutating func tabled(_ s: String, table t: Int, _ column: Column) -> Int {
            if let (last, i) = lastEntry[t], last == s {
                ref(i + 1)
                return i
            }
            let i: Int
            if let known = tables[t][s] {
                i = known
                ref(i + 1)
            } else {
                i = tables[t].count
                ref(0)
                tables[t][s] = i
                columns[column.rawValue].string(s)
            }
            lastEntry[t] = (s, i)
            return i
        }

        mutating func entity(_ s: String) -> Int { tabled(s, table: 0, .entities) }
        mutating func name(_ s: String) -> Int { tabled(s, table: 1, .names) }

        mutating func text(_ s: String, name: Int, role: Role) {
            let key = TextKey(name: name, role: role)
            let i: Int
            if let known = textIndex[key] {
                i = known
            } else {
                i = texts.count
                textIndex[key] = i
                texts.append(ByteWriter())
            }
            var s = s
            s.withUTF8 { buffer in
                length(buffer.count)
                texts[i].raw(buffer)
            }
        }

        mutating func ids(_ ids: [OpID]) {
            number(UInt64(ids.count))
            for id in ids {
                replica(id.replica)
                number(id.counter)
            }
        }

        mutating func add(_ op: Op) {
            u8(.kinds, (op.context == nil ? 0 : OpCodec.flagContext) | (op.countsAsWork ? OpCodec.flagWork : 0))
            if let context = op.context {
                let entries = context.sorted
                number(UInt64(entries.count))
                for (r, counter) in entries {
                    replica(r)
                    number(counter)
                }
            }
            let entity = op.body.entity
            u8(.kinds, entity.kind.rawValue)
            entityEntry = self.entity(entity.id)
            _ = self.entity(entity.parent)
            switch op.body {
            case .assign(_, let writes):
                u8(.kinds, OpCodec.assignKind)
                number(UInt64(writes.count))
                for write in writes {
                    let field = name(write.field)
                    switch write.value {
                    case .null: u8(.kinds, 0)
                    case .bool(let b): u8(.kinds, b ? 2 : 1)
                    case .int(let i): u8(.kinds, 3); signed(i)
                    case .string(let s): u8(.kinds, 4); text(s, name: field, role: .value)
                    }
                    ids(write.prev)
                }
            case .setAdd(_, let set, let element):
                u8(.kinds, OpCodec.setAddKind)
                text(element, name: name(set), role: .element)
            case .setRemove(_, let set, let element, let observed):
                u8(.kinds, OpCodec.setRemoveKind)
                text(element, name: name(set), role: .element)
                ids(observed)
            case .text(_, let field, .insert(let insert)):
                u8(.kinds, OpCodec.textInsertKind)
                let name = name(field)
                u8(.kinds, (insert.left == nil ? 0 : OpCodec.textHasLeft) | (insert.right == nil ? 0 : OpCodec.textHasRight))
                let replicaEntry = replica(insert.id.replica)
                let seq = Int64(insert.id.seq)
                let key = RunKey(entity: entityEntry, name: name, replica: replicaEntry)
                signed(seq - (nextSeq[key] ?? 0))
                nextSeq[key] = seq + Int64(insert.text.count)
                if let left = insert.left {
                    replica(left.replica)
                    signed(Int64(left.seq) - seq)
                }
                if let right = insert.right {
                    replica(right.replica)
                    signed(Int64(right.seq) - (insert.left.map { Int64($0.seq) + 1 } ?? seq))
                }
                var view = String.UnicodeScalarView()
                view.append(contentsOf: insert.text)
                text(String(view), name: name, role: .text)
            case .text(_, let field, .delete(let delete)):
                u8(.kinds, OpCodec.textDeleteKind)
                _ = name(field)
                number(UInt64(delete.ranges.count))
                // Each range's seq relative to where the one before it ended.
                var end: Int64 = 0
                for range in delete.ranges {
                    replica(range.replica)
                    signed(Int64(range.seq) - end)
                    number(UInt64(range.count))
                    end = Int64(range.seq) + Int64(range.count)
                }
            case .unknown(let kind, _, let payload):
                u8(.kinds, kind)
                length(payload.count)
                columns[Column.raw.rawValue].raw(payload)
            }
        }
    }
}
