import SyncModel
import TestHarness
import Testing

@testable import SyncWire

/// Format 3: ops taken apart into columns (OpColumns). What a reader must be able to count on:
/// every op reads back as written, in either format, and a payload that lies about its columns
/// is refused with a reason instead of being read as other ops.
@Suite struct OpColumnsTests {
    static let replicas = [ChangesetFixture.a, ChangesetFixture.b] + (0..<6).map { ReplicaID(bytes: Array(repeating: UInt8(0x30 + $0), count: 16))! }

    /// Seeded ops of every kind: several entities and fields, ids and text ops naming other
    /// replicas, contexts, unknown op and entity kinds, empty and Arabic strings.
    static func randomOps(_ n: Int, seed: UInt64) -> [Op] {
        var rng = SeededRandom(seed: seed)
        let words = ["", "غزة", "وقف إطلاق النار", "news", "الشرق الأوسط", "✍️ note", "a\u{0}b"]
        let entities = (0..<12).map { i -> EntityRef in
            switch i % 4 {
            case 0: .article("article-\(i)")
            case 1: .collection("collection-\(i)")
            case 2: .annotation("annotation-\(i)", article: "article-\(i - 2)")
            default: EntityRef(EntityRef.Kind(rawValue: UInt8(7 + i)), "future-\(i)", parent: i % 8 == 3 ? "article-0" : "")
            }
        }
        func replica() -> ReplicaID { rng.pick(replicas)! }
        func ids() -> [OpID] { (0..<rng.int(0...3)).map { _ in OpID(replica: replica(), counter: UInt64(rng.int(1...100_000))) } }
        func charID() -> CharID { CharID(replica: replica(), seq: UInt32(rng.int(0...5000))) }
        func value() -> Value {
            switch rng.int(0...4) {
            case 0: .null
            case 1: .bool(rng.chance(0.5))
            case 2: .int(rng.chance(0.1) ? .min : Int64(rng.int(-1_000_000...1_000_000)))
            default: .string(rng.pick(words)! + String(rng.int(0...99)))
            }
        }
        var hlc = HLC(millis: 1_718_000_000_000)
        return (0..<n).map { i in
            let entity = rng.pick(entities)!
            let field = rng.pick(["title", "body", "note", "tags", "members", "x"])!
            let body: OpBody
            switch rng.int(0...6) {
            case 0:
                body = .assign(entity, (0..<rng.int(0...4)).map { _ in FieldWrite(rng.pick(["title", "note", "start", ""])!, value(), prev: ids()) })
            case 1: body = .setAdd(entity, set: field, element: rng.pick(words)!)
            case 2: body = .setRemove(entity, set: field, element: rng.pick(words)!, observed: ids())
            case 3:
                let text = Array((rng.pick(words.filter { !$0.isEmpty })! + "ن").unicodeScalars)
                body = .text(
                    entity, field: field,
                    .insert(TextInsert(id: charID(), left: rng.chance(0.7) ? charID() : nil, right: rng.chance(0.5) ? charID() : nil, text: text)))
            case 4:
                let ranges = (0..<rng.int(1...3)).map { _ in
                    CharRange(replica: replica(), seq: UInt32(rng.int(0...5000)), count: UInt32(rng.int(1...40)))
                }
                body = .text(entity, field: field, .delete(TextDelete(ranges: ranges)))
            default:
                body = .unknown(kind: UInt8(rng.int(6...255)), entity: entity, payload: (0..<rng.int(0...9)).map { _ in UInt8(rng.int(0...255)) })
            }
            // Clocks mostly move forward, sometimes back (a wrapped delta).
            hlc = HLC(raw: rng.chance(0.1) ? hlc.raw &- UInt64(rng.int(1...1000)) : hlc.raw &+ UInt64(rng.int(0...100_000)))
            let context: VersionVector? =
                rng.chance(0.1) ? VersionVector(Dictionary([(replica(), UInt64(rng.int(1...50))), (replica(), UInt64(3))]) { a, _ in a }) : nil
            return Op(
                id: OpID(replica: ChangesetFixture.a, counter: UInt64(i + 1)), hlc: hlc, body: body, context: context,
                countsAsWork: rng.chance(0.5))
        }
    }

    @Test(arguments: [1, 2, 17, 400])
    func `random ops of every kind read back the same in format 3 and format 2`(count: Int) throws {
        for seed in 1...25 {
            let ops = Self.randomOps(count, seed: UInt64(seed * 1000 + count))
            let three = try Changeset.encode(ops)
            let back = try Changeset.decode(three, limits: .default)
            #expect(back.format == 3 && back.ops == ops, "seed \(seed)")
            // The op log keeps format-2 bodies: the same bytes whichever format carried the op.
            #expect(back.ops.map { OpCodec.encodeBody($0) } == ops.map { OpCodec.encodeBody($0) }, "seed \(seed)")
            let two = try Changeset.transcode(three, to: 2)
            #expect(try Changeset.decode(two, limits: .default).ops == ops, "seed \(seed)")
            #expect(try Changeset.transcode(two, to: 3) == three, "seed \(seed)")
        }
    }

    /// A hand-built format-3 payload: base HLC, then the columns given (missing fixed ones empty).
    static func payload(_ columns: [Int: [UInt8]], texts: [[UInt8]] = [], declare: Int? = nil) -> [UInt8] {
        var w = ByteWriter()
        w.fixed(UInt64(1 << 40))
        let all = (0..<OpColumns.Column.allCases.count).map { columns[$0] ?? [] } + texts
        w.varint(UInt64(declare ?? all.count))
        for c in all { w.varint(UInt64(c.count)) }
        for c in all { w.raw(c) }
        return w.bytes
    }

    /// `setAdd` on article "a1", set "tags", element "x": the smallest well-formed op, then a
    /// variation of it per case that a reader must refuse.
    @Test func `a payload that lies about its columns is refused with a reason`() throws {
        typealias C = OpColumns.Column
        let entities: [UInt8] = [2, 0x61, 0x31], names: [UInt8] = [4] + Array("tags".utf8)
        func setAdd(refs: [UInt8] = [0, 1, 0], kinds: [UInt8] = [2, 1, 2], lengths: [UInt8] = [1], text: [UInt8] = [0x78]) -> [Int: [UInt8]] {
            [
                C.hlc.rawValue: [0], C.kinds.rawValue: kinds, C.refs.rawValue: refs, C.lengths.rawValue: lengths,
                C.entities.rawValue: entities, C.names.rawValue: names, 99: text,
            ]
        }
        func decode(
            _ columns: [Int: [UInt8]], texts: [[UInt8]]? = nil, declare: Int? = nil, padding: Int = 0, count: Int = 1
        ) -> Result<[Op], DecodeError> {
            var fixed = columns
            let text = fixed.removeValue(forKey: 99)
            let payload = Self.payload(fixed, texts: texts ?? text.map { [$0] } ?? [], declare: declare) + [UInt8](repeating: 0, count: padding)
            return Result { () throws(DecodeError) -> [Op] in
                try OpColumns.decode(payload, replica: ChangesetFixture.a, firstCounter: 1, count: count)
            }
        }
        let good = try decode(setAdd()).get()
        #expect(good.map(\.body) == [.setAdd(.article("a1"), set: "tags", element: "x")])

        let cases: [(String, Result<[Op], DecodeError>, String)] = [
            ("entity reference to an entry not yet defined", decode(setAdd(refs: [3, 1, 0])), "entity reference 3 names no entity"),
            ("name reference to an entry not yet defined", decode(setAdd(refs: [0, 1, 1])), "name reference 1 names no name"),
            ("a byte left in a column", decode(setAdd(kinds: [2, 1, 2, 2])), "1 bytes left over in column 2"),
            ("a second op the columns do not hold", decode(setAdd(), count: 2), "op 2 of 2"),
            ("a string longer than its column", decode(setAdd(lengths: [5])), "length 5 runs past the end of column 9"),
            ("invalid UTF-8", decode(setAdd(text: [0xff])), "invalid UTF-8"),
            (
                "a text column the ops never use", decode(setAdd(), texts: [[0x78], []]),
                "2 text columns declared, more than the 1-byte lengths column can use"
            ),
            ("a text column used but not declared", decode(setAdd(), texts: []), "a text column is used but not declared"),
            ("fewer columns than the fixed ones", decode(setAdd(), declare: 3), "3 columns"),
            ("an unknown flag", decode(setAdd(kinds: [0x40, 1, 2])), "unknown op flags 64"),
            (
                "a replica reference to nothing",
                decode([
                    C.hlc.rawValue: [0], C.kinds.rawValue: [0, 1, 3], C.refs.rawValue: [0, 1, 0, 5],
                    C.numbers.rawValue: [1, 1], C.lengths.rawValue: [1], C.entities.rawValue: entities, C.names.rawValue: names, 99: [0x78],
                ]),
                "replica reference 5 names no replica"
            ),
            (
                "a counter of 0",
                decode([
                    C.hlc.rawValue: [0], C.kinds.rawValue: [0, 1, 3], C.refs.rawValue: [0, 1, 0, 1],
                    C.numbers.rawValue: [1, 0], C.lengths.rawValue: [1], C.entities.rawValue: entities, C.names.rawValue: names, 99: [0x78],
                ]),
                "op counter 0"
            ),
            ("a first op that does not start at the base HLC", decode(setAdd().merging([C.hlc.rawValue: [2]]) { $1 }), "first op's HLC delta is 1"),
        ]
        // Bounds on what a small payload may make the reader do.
        let bounded: [(String, Result<[Op], DecodeError>, String)] = [
            (
                "100,000 text columns declared (a payload of zeros could declare millions)", decode(setAdd(), declare: 100_000, padding: 200_000),
                "99991 text columns declared, more than the 1-byte lengths column can use"
            ),
            (
                "the origin defined again as a new replica",
                decode([
                    C.hlc.rawValue: [0], C.kinds.rawValue: [0, 1, 3], C.refs.rawValue: [0, 1, 0, 0], C.replicas.rawValue: ChangesetFixture.a.bytes,
                    C.numbers.rawValue: [1, 1], C.lengths.rawValue: [1], C.entities.rawValue: entities, C.names.rawValue: names, 99: [0x78],
                ]),
                "is defined twice"
            ),
            (
                "an entity id defined twice",
                decode(
                    [
                        C.hlc.rawValue: [0, 0], C.kinds.rawValue: [2, 1, 2, 2, 1, 2], C.refs.rawValue: [0, 1, 0, 0, 1, 1],
                        C.lengths.rawValue: [1, 1],
                        C.entities.rawValue: entities + entities, C.names.rawValue: names, 99: [0x78, 0x79],
                    ], count: 2),
                "entity \"a1\" is defined twice"
            ),
        ]
        for (what, result, reason) in cases + bounded {
            switch result {
            case .success(let ops): Issue.record("\(what): read as \(ops)")
            case .failure(let error): #expect(error.reason.contains(reason), "\(what): \(error.reason)")
            }
        }
    }

    /// A 1-byte replica reference stands for 16 bytes of format 2: a reader counts what the ops
    /// would take there, so a small payload cannot decode to (or be re-encoded as) a huge one.
    @Test func `ops that would be far larger in format 2 than the limit are refused`() throws {
        typealias C = OpColumns.Column
        let ids = 2_000
        let payload = Self.payload([
            C.hlc.rawValue: [0], C.kinds.rawValue: [0, 1, 1, 0], C.refs.rawValue: [0, 1, 0] + Array(repeating: 1, count: ids),
            C.numbers.rawValue: [1, 0xd0, 0x0f] + Array(repeating: 1, count: ids), C.entities.rawValue: [2, 0x61, 0x31],
            C.names.rawValue: [1, 0x78],
        ])
        let all = try OpColumns.decode(payload, replica: ChangesetFixture.a, firstCounter: 1, count: 1)
        guard case .assign(_, let writes) = all[0].body else { throw DecodeError("not an assign") }
        #expect(writes[0].prev.count == ids && payload.count < 2 * ids + 40)
        #expect(throws: DecodeError("op 1 of 1 (counter 1): the ops would take more than the payload limit in format 2")) {
            try OpColumns.decode(payload, replica: ChangesetFixture.a, firstCounter: 1, count: 1, maxPlainBytes: 16 * ids - 1)
        }
    }

    /// Seeded random damage to the inflated payload of a real frame (with a hash that matches, as
    /// a buggy writer would produce): refused, or read as ops that encode back to a frame holding
    /// the same ops. Never a crash, never a partial result.
    @Test func `damaged columns are refused or read as ops that round-trip`() throws {
        let ops = Self.randomOps(60, seed: 77)
        let payload = OpColumns.encode(ops)
        var rng = SeededRandom(seed: 5)
        var refused = 0
        for _ in 0..<3000 {
            var damaged = payload
            for _ in 0..<rng.int(1...3) { damaged[rng.int(below: damaged.count)] = UInt8(rng.int(0...255)) }
            do throws(DecodeError) {
                let read = try OpColumns.decode(damaged, replica: ChangesetFixture.a, firstCounter: 1, count: ops.count)
                #expect(read.count == ops.count)
                #expect(try OpColumns.decode(OpColumns.encode(read), replica: ChangesetFixture.a, firstCounter: 1, count: read.count) == read)
            } catch {
                refused += 1
            }
        }
        print("damaged format-3 payloads: 3000 tried, \(refused) refused, \(3000 - refused) read as other well-formed ops")
        #expect(refused > 1500)
    }

    /// The reason for format 3: like next to like. Annotations made on one laptop (quotes and
    /// notes of the same story, a new id each) cost far fewer bytes than the same ops in format 2.
    @Test func `highlights cost fewer bytes in columns than op by op`() throws {
        var rng = SeededRandom(seed: 11)
        let story = Array(try String(contentsOfFile: CLI.seedArticle, encoding: .utf8).unicodeScalars)
        let notes = ["للمتابعة", "مصدر ثانٍ؟", "تحقق من الرقم", "اقتباس مهم"]
        let ops = (1...600).map { i -> Op in
            let start = rng.int(0...(story.count - 200)), length = rng.int(20...150)
            let quote = String(String.UnicodeScalarView(story[start..<start + length]))
            let article = "article-\(rng.int(0...40))"
            let writes = [
                FieldWrite("kind", .string("highlight")), FieldWrite("exact", .string(quote)),
                FieldWrite("start", .int(Int64(start))), FieldWrite("end", .int(Int64(start + length))),
                FieldWrite("note", .string(rng.pick(notes)!)), FieldWrite("author", .string("journalist-a")),
            ]
            return Op(
                id: OpID(replica: ChangesetFixture.a, counter: UInt64(i)), hlc: HLC(millis: 1_718_000_000_000 + UInt64(i) * 4000),
                body: .assign(.annotation("annotation-\(i)-\(rng.next() % 1_000_000)", article: article), writes))
        }
        let three = try Changeset.encode(ops), two = try Changeset.encode(ops, format: 2)
        print("600 highlights: format 3 \(three.count) B, format 2 \(two.count) B")
        #expect(three.count * 10 < two.count * 9)
    }
}
