public import SyncModel

/// Reading a format-3 payload (``OpColumns``): each op from the front of its columns, every
/// reference checked against the entries defined so far, every column read to its end.
extension OpColumns {
    /// The `count` ops of a verified payload, with ids `(replica, firstCounter + i)`. Every column
    /// must be read to its end; anything left over, a reference to an entry not yet defined, or a
    /// new entry that is already in its table, is an error.
    ///
    /// The payload may come from anyone who can compute a SHA-256, so what it decodes to is
    /// bounded by it: no more text columns than the lengths column can use (each takes one of its
    /// entries), and at most `maxPlainBytes` of what the ops would be in format 2 (a 1-byte
    /// reference stands for 16 bytes of replica id or a whole entity id).
    public static func decode(
        _ payload: [UInt8], replica: ReplicaID, firstCounter: UInt64, count: Int, maxPlainBytes: Int = .max
    ) throws(DecodeError) -> [Op] {
        precondition(count >= 0)
        var header = ByteReader(payload)
        var previous = try header.fixed(UInt64.self)
        let columnCount = try header.length(limit: header.remaining)
        let fixed = Column.allCases.count
        guard columnCount >= fixed else {
            throw DecodeError("\(columnCount) columns; a format-3 payload has at least \(fixed)")
        }
        var lengths: [Int] = []
        for _ in 0..<fixed { lengths.append(try header.length(limit: header.remaining)) }
        // Every declared text column must be used, and each use takes an entry of column lengths.
        guard columnCount - fixed <= lengths[Column.lengths.rawValue] else {
            throw DecodeError(
                "\(columnCount - fixed) text columns declared, more than the \(lengths[Column.lengths.rawValue])-byte lengths column can use")
        }
        lengths.reserveCapacity(columnCount)
        for _ in fixed..<columnCount { lengths.append(try header.length(limit: header.remaining)) }
        var start = header.offset
        var readers: [ByteReader] = []
        readers.reserveCapacity(columnCount)
        for length in lengths {
            guard length <= payload.count - start else {
                throw DecodeError("column \(readers.count) of \(length) bytes runs past the end of the payload")
            }
            readers.append(ByteReader(payload, from: start, to: start + length))
            start += length
        }
        guard start == payload.count else {
            throw DecodeError("\(payload.count - start) stray bytes after the last column")
        }
        var d = Decoder(readers: readers, origin: replica, budget: maxPlainBytes)
        var ops: [Op] = []
        ops.reserveCapacity(count)
        for index in 0..<count {
            do throws(DecodeError) {
                let delta = try d.readers[Column.hlc.rawValue].zigzag()
                if index == 0, delta != 0 { throw DecodeError("first op's HLC delta is \(delta), must be 0") }
                previous = previous &+ UInt64(bitPattern: delta)
                let (body, context, work) = try d.op()
                ops.append(
                    Op(
                        id: OpID(replica: replica, counter: firstCounter + UInt64(index)), hlc: HLC(raw: previous),
                        body: body, context: context, countsAsWork: work))
            } catch {
                throw DecodeError("op \(index + 1) of \(count) (counter \(firstCounter + UInt64(index))): \(error.reason)")
            }
        }
        for (i, reader) in d.readers.enumerated() where !reader.isAtEnd {
            throw DecodeError("\(reader.remaining) bytes left over in column \(i) after the last op")
        }
        guard d.textColumns == columnCount - Column.allCases.count else {
            throw DecodeError(
                "\(columnCount - Column.allCases.count) text columns declared, the ops use \(d.textColumns)")
        }
        return ops
    }

    struct Decoder {
        var readers: [ByteReader]
        var replicas: [ReplicaID]
        var replicaIndex: [ReplicaID: Int]
        /// Entity ids (entry 0 is the empty parent) and names, in the order they were defined.
        var tables: [[String]] = [[""], []]
        var tableIndex: [[String: Int]] = [["": 0], [:]]
        var textIndex: [TextKey: Int] = [:]
        var textColumns = 0
        var nextSeq: [RunKey: Int64] = [:]
        /// What is left of the bytes the ops may take in format 2.
        var budget: Int

        init(readers: [ByteReader], origin: ReplicaID, budget: Int) {
            self.readers = readers
            replicas = [origin]
            replicaIndex = [origin: 0]
            self.budget = budget
        }

        /// Counts `n` bytes of the ops' format-2 size against the budget.
        mutating func charge(_ n: Int) throws(DecodeError) {
            budget -= n
            guard budget >= 0 else { throw DecodeError("the ops would take more than the payload limit in format 2") }
        }

        mutating func u8() throws(DecodeError) -> UInt8 { try readers[Column.kinds.rawValue].u8() }
        mutating func number() throws(DecodeError) -> UInt64 { try readers[Column.numbers.rawValue].varint() }
        mutating func signed() throws(DecodeError) -> Int64 { try readers[Column.numbers.rawValue].zigzag() }
        mutating func ref() throws(DecodeError) -> Int {
            let r = try readers[Column.refs.rawValue].varint()
            guard r <= UInt64(Int32.max) else { throw DecodeError("reference \(r) is out of range") }
            return Int(r)
        }
        /// The next entry of `lengths`: a byte length within what is left of column `column`.
        mutating func length(within column: Int) throws(DecodeError) -> Int {
            let n = try readers[Column.lengths.rawValue].varint()
            guard n <= UInt64(readers[column].remaining) else {
                throw DecodeError("length \(n) runs past the end of column \(column)")
            }
            return Int(n)
        }

        /// A count of things that each take at least one byte of `column`.
        mutating func count(_ column: Column) throws(DecodeError) -> Int {
            let n = try number()
            guard n <= UInt64(readers[column.rawValue].remaining) else {
                throw DecodeError("count \(n) is more than the data left for it")
            }
            return Int(n)
        }

        mutating func replica() throws(DecodeError) -> ReplicaID { try replicaEntry().0 }

        /// A replica reference: the replica and its entry.
        mutating func replicaEntry() throws(DecodeError) -> (ReplicaID, Int) {
            let r = try ref()
            try charge(16)
            if r > 0 {
                guard r <= replicas.count else { throw DecodeError("replica reference \(r) names no replica (\(replicas.count) so far)") }
                return (replicas[r - 1], r - 1)
            }
            let replica = ReplicaID(bytes: Array(try readers[Column.replicas.rawValue].raw(16)))!
            guard replicaIndex[replica] == nil else { throw DecodeError("replica \(replica) is defined twice") }
            replicaIndex[replica] = replicas.count
            replicas.append(replica)
            return (replica, replicas.count - 1)
        }

        mutating func tabled(table t: Int, _ column: Column, _ what: String) throws(DecodeError) -> (String, Int) {
            let r = try ref()
            if r > 0 {
                guard r <= tables[t].count else {
                    throw DecodeError("\(what) reference \(r) names no \(what) (\(tables[t].count) so far)")
                }
                try charge(tables[t][r - 1].utf8.count)
                return (tables[t][r - 1], r - 1)
            }
            let s = try readers[column.rawValue].string()
            guard tableIndex[t][s] == nil else { throw DecodeError("\(what) \"\(s.prefix(40))\" is defined twice") }
            tableIndex[t][s] = tables[t].count
            tables[t].append(s)
            return (s, tables[t].count - 1)
        }

        mutating func entity() throws(DecodeError) -> (String, Int) { try tabled(table: 0, .entities, "entity") }
        mutating func name() throws(DecodeError) -> (String, Int) { try tabled(table: 1, .names, "name") }

        mutating func text(name: Int, role: Role) throws(DecodeError) -> String {
            let slice = try textBytes(name: name, role: role)
            guard let s = String(validating: slice, as: UTF8.self) else { throw DecodeError("invalid UTF-8 in a string") }
            return s
        }

        /// A text insert's characters, validated and decoded in one pass without a `String`.
        mutating func scalars(name: Int, role: Role) throws(DecodeError) -> [Unicode.Scalar] {
            let slice = try textBytes(name: name, role: role)
            var scalars: [Unicode.Scalar] = []
            scalars.reserveCapacity(slice.count)
            var bytes = slice.makeIterator()
            var utf8 = UTF8()
            while true {
                switch utf8.decode(&bytes) {
                case .scalarValue(let scalar): scalars.append(scalar)
                case .emptyInput: return scalars
                case .error: throw DecodeError("invalid UTF-8 in a string")
                }
            }
        }

        /// The bytes of the next string of text column (name, role).
        mutating func textBytes(name: Int, role: Role) throws(DecodeError) -> ArraySlice<UInt8> {
            let key = TextKey(name: name, role: role)
            let i: Int
            if let known = textIndex[key] {
                i = known
            } else {
                i = Column.allCases.count + textColumns
                guard i < readers.count else { throw DecodeError("a text column is used but not declared") }
                textIndex[key] = i
                textColumns += 1
            }
            let n = try length(within: i)
            return try readers[i].raw(n)
        }

        mutating func ids() throws(DecodeError) -> [OpID] {
            let n = try count(.refs)
            var ids: [OpID] = []
            ids.reserveCapacity(n)
            for _ in 0..<n {
                let replica = try replica()
                let counter = try number()
                guard counter > 0 else { throw DecodeError("op counter 0") }
                ids.append(OpID(replica: replica, counter: counter))
            }
            return ids
        }

        /// `base` plus the next zigzag of column numbers: a character seq, 0 ..< 2^32.
        mutating func seq(after base: Int64, _ what: String) throws(DecodeError) -> UInt32 {
            let (value, overflow) = base.addingReportingOverflow(try signed())
            guard !overflow, value >= 0, value <= Int64(UInt32.max) else { throw DecodeError("\(what) out of range") }
            return UInt32(value)
        }

        /// A character count (of a delete range): a varint below 2^32.
        mutating func characterCount() throws(DecodeError) -> UInt32 {
            let v = try number()
            guard v <= UInt64(UInt32.max) else { throw DecodeError("character count \(v) over 2^32") }
            return UInt32(v)
        }

        mutating func op() throws(DecodeError) -> (OpBody, VersionVector?, Bool) {
            let flags = try u8()
            guard flags & ~(OpCodec.flagContext | OpCodec.flagWork) == 0 else { throw DecodeError("unknown op flags \(flags)") }
            var context: VersionVector? = nil
            if flags & OpCodec.flagContext != 0 {
                let n = try count(.refs)
                var counters: [ReplicaID: UInt64] = [:]
                for _ in 0..<n {
                    let r = try replica()
                    counters[r] = try number()
                }
                context = VersionVector(counters)
            }
            let entityKind = EntityRef.Kind(rawValue: try u8())
            let (id, entityEntry) = try self.entity()
            let entity = EntityRef(entityKind, id, parent: try self.entity().0)
            let kind = try u8()
            let body: OpBody
            switch kind {
            case OpCodec.assignKind:
                let n = try count(.kinds)
                var writes: [FieldWrite] = []
                writes.reserveCapacity(n)
                for _ in 0..<n {
                    let (field, index) = try name()
                    let value: Value
                    switch try u8() {
                    case 0: value = .null
                    case 1: value = .bool(false)
                    case 2: value = .bool(true)
                    case 3: value = .int(try signed())
                    case 4: value = .string(try text(name: index, role: .value))
                    case let tag: throw DecodeError("unknown value tag \(tag)")
                    }
                    writes.append(FieldWrite(field, value, prev: try ids()))
                }
                body = .assign(entity, writes)
            case OpCodec.setAddKind, OpCodec.setRemoveKind:
                let (set, index) = try name()
                let element = try text(name: index, role: .element)
                body =
                    kind == OpCodec.setAddKind
                    ? .setAdd(entity, set: set, element: element)
                    : .setRemove(entity, set: set, element: element, observed: try ids())
            case OpCodec.textInsertKind:
                let (field, index) = try name()
                let flags = try u8()
                guard flags & ~(OpCodec.textHasLeft | OpCodec.textHasRight) == 0 else {
                    throw DecodeError("unknown text insert flags \(flags)")
                }
                let (replica, replicaEntry) = try replicaEntry()
                let key = RunKey(entity: entityEntry, name: index, replica: replicaEntry)
                let id = CharID(replica: replica, seq: try seq(after: nextSeq[key] ?? 0, "seq"))
                func origin(_ present: UInt8, after base: Int64) throws(DecodeError) -> CharID? {
                    guard flags & present != 0 else { return nil }
                    let r = try self.replica()
                    return CharID(replica: r, seq: try seq(after: base, "origin seq"))
                }
                let left = try origin(OpCodec.textHasLeft, after: Int64(id.seq))
                let right = try origin(OpCodec.textHasRight, after: left.map { Int64($0.seq) + 1 } ?? Int64(id.seq))
                let text = try scalars(name: index, role: .text)
                let insert = TextInsert(id: id, left: left, right: right, text: text)
                try OpCodec.check(field: field, insert)
                nextSeq[key] = Int64(id.seq) + Int64(text.count)
                body = .text(entity, field: field, .insert(insert))
            case OpCodec.textDeleteKind:
                let (field, _) = try name()
                let n = try count(.refs)
                var ranges: [CharRange] = []
                ranges.reserveCapacity(n)
                var end: Int64 = 0
                for _ in 0..<n {
                    let r = try replica()
                    let range = CharRange(replica: r, seq: try seq(after: end, "delete seq"), count: try characterCount())
                    ranges.append(range)
                    end = Int64(range.seq) + Int64(range.count)
                }
                let delete = TextDelete(ranges: ranges)
                try OpCodec.check(field: field, delete)
                body = .text(entity, field: field, .delete(delete))
            default:
                let n = try length(within: Column.raw.rawValue)
                body = .unknown(kind: kind, entity: entity, payload: Array(try readers[Column.raw.rawValue].raw(n)))
            }
            return (body, context, flags & OpCodec.flagWork != 0)
        }
    }
}
