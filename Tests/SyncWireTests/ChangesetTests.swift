import CZlib
import Foundation
import SyncModel
import TestHarness
import Testing

@testable import SyncWire

/// Ops and hand-made frames for the changeset tests (RNG: `SeededRandom` in Support/).
enum ChangesetFixture {
    static let a = ReplicaID(bytes: Array(0..<16))!
    static let b = ReplicaID(hex: "f0e1d2c3b4a5968778695a4b3c2d1e0f")!

    /// One op of every kind, every Value case, prev/observed ids, a context, and an HLC that
    /// goes backwards (negative delta).
    static func everyKind(_ r: ReplicaID = a, from first: UInt64 = 1) -> [Op] {
        let article = EntityRef.article("2f1c9a4e-8d3b-4c7a-9e51-6b0d2a7f3c18")
        let bodies: [OpBody] = [
            .assign(
                article,
                [
                    FieldWrite("title", .string("غزة: مفاوضات وقف إطلاق النار"), prev: [OpID(replica: b, counter: 7)]),
                    FieldWrite("summary", .null), FieldWrite("starred", .bool(true)), FieldWrite("trashed", .bool(false)),
                    FieldWrite("published_at", .int(1_718_000_000_000)), FieldWrite("min", .int(.min)),
                    FieldWrite("max", .int(.max), prev: [OpID(replica: a, counter: 1), OpID(replica: b, counter: 3)]),
                ]),
            .setAdd(article, set: "tags", element: "الشرق الأوسط"),
            .setRemove(article, set: "tags", element: "سياسة", observed: [OpID(replica: b, counter: 9), OpID(replica: a, counter: 2)]),
            .assign(.annotation("note-1", article: article.id), [FieldWrite("note", .string("اقتباس مهم ✍️"))]),
            .setAdd(.collection("c-1"), set: "members", element: article.id),
            .unknown(kind: 200, entity: article, payload: [0, 1, 2, 0xff, 0x80]),
            .unknown(kind: 0, entity: EntityRef(EntityRef.Kind(rawValue: 9), "future-entity", parent: article.id), payload: []),
        ]
        let context = VersionVector([a: 4, b: 12])
        return bodies.enumerated().map { i, body in
            let hlc = HLC(millis: 1_718_000_000_000 + UInt64(i % 3) * 5, counter: UInt16(i))
            // The first unknown kind counts as work, as its (future) author decided.
            let work: Bool? = if case .unknown(200, _, _) = body { true } else { nil }
            return Op(
                id: OpID(replica: r, counter: first + UInt64(i)), hlc: hlc, body: body, context: i == 2 ? context : nil,
                countsAsWork: work)
        }
    }

    /// Realistic offline edits: Arabic title rewrites of UUID-identified articles, a few ms apart.
    static func titleEdits(_ n: Int, seed: UInt64 = 7) -> [Op] {
        var rng = SeededRandom(seed: seed)
        let words = ["غزة", "وقف", "إطلاق", "النار", "مفاوضات", "القاهرة", "الدوحة", "الاحتلال", "انسحاب", "المساعدات", "الإنسانية", "رفح"]
        let articles = (0..<200).map { _ in UUID(uuid: uuidBytes(&rng)).uuidString.lowercased() }
        var hlc = HLC(millis: 1_718_000_000_000)
        return (0..<n).map { i0 in
            let i = i0 + 1
            hlc = HLC.tick(last: hlc, nowMillis: hlc.millis + UInt64.random(in: 0...4000, using: &rng))
            let title = (0..<Int.random(in: 5...10, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
            let prev = i > 1 ? [OpID(replica: a, counter: UInt64(i - 1))] : []
            return Op(
                id: OpID(replica: a, counter: UInt64(i)), hlc: hlc,
                body: .assign(.article(articles.randomElement(using: &rng)!), [FieldWrite("title", .string(title), prev: prev)]))
        }
    }

    static func uuidBytes(_ rng: inout SeededRandom) -> uuid_t {
        let x = rng.next(), y = rng.next()
        return withUnsafeBytes(of: (x, y)) { raw in raw.load(as: uuid_t.self) }
    }

    /// A frame built by hand, so tests can lie in any header field. The hash is computed over
    /// the header as written unless `sha` is given. Format 1 headers have no type and key
    /// generation bytes.
    static func frame(
        major: UInt8 = Changeset.formatMajor, minor: UInt8 = 0, type: UInt8 = 1, keyGeneration: UInt8 = 0, replica: ReplicaID = a,
        first: UInt64 = 1, last: UInt64 = 1, count: UInt32 = 1, payload: [UInt8], declared: UInt32? = nil,
        body: [UInt8]? = nil, sha: [UInt8]? = nil
    ) -> [UInt8] {
        var w = ByteWriter()
        w.raw(Changeset.magic); w.u8(major); w.u8(minor)
        if major >= 2 { w.u8(type); w.u8(keyGeneration) }
        w.raw(replica.bytes)
        w.fixed(first); w.fixed(last); w.fixed(count); w.fixed(declared ?? UInt32(payload.count))
        w.raw(sha ?? Changeset.digest(w.bytes[...], payload))
        let body = body ?? Zlib.deflate(payload)
        w.fixed(UInt32(body.count)); w.raw(body)
        return w.bytes
    }

    /// A zlib stream of `size` zero bytes, produced in pieces so the test never holds `size` bytes.
    static func zeroBomb(size: Int) -> [UInt8] {
        var s = z_stream()
        precondition(deflateInit_(&s, 9, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&s) }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var out: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 1 << 16)
        var left = size
        while true {
            let piece = min(left, zeros.count)
            left -= piece
            zeros.withUnsafeBufferPointer { zin in
                s.next_in = UnsafeMutablePointer(mutating: zin.baseAddress); s.avail_in = uInt(piece)
                repeat {
                    let produced = buffer.withUnsafeMutableBufferPointer { b -> Int in
                        s.next_out = b.baseAddress; s.avail_out = uInt(b.count)
                        _ = deflate(&s, left == 0 ? Z_FINISH : Z_NO_FLUSH)
                        return b.count - Int(s.avail_out)
                    }
                    out += buffer[..<produced]
                } while s.avail_out == 0
            }
            if left == 0 { return out }
        }
    }
}

@Suite struct ChangesetTests {
    @Test(arguments: [UInt8(2), 3])
    func `every op kind round-trips byte for byte, unknown kinds and entities included`(format: UInt8) throws {
        let ops = ChangesetFixture.everyKind(from: 41)
        let bytes = try Changeset.encode(ops, format: format)
        let back = try Changeset.decode(bytes, limits: .default)
        #expect(back.replica == ChangesetFixture.a && back.firstCounter == 41 && back.lastCounter == 47)
        #expect(back.ops == ops)
        // Byte-identical re-encoding, unknown kinds included: stores pass newer ops on untouched.
        #expect(try Changeset.encode(back.ops, format: format) == bytes)
        #expect(back.ops.map { OpCodec.encodeBody($0) } == ops.map { OpCodec.encodeBody($0) })
        let header = try Changeset.inspectHeader(bytes)
        #expect(header.opCount == 7 && header.formatMajor == format && header.frameLength == bytes.count)
        // The other format holds the same ops.
        #expect(try Changeset.decode(Changeset.transcode(bytes, to: 5 - format), limits: .default).ops == ops)
        #expect(back.ops[5].countsAsWork && !back.ops[6].countsAsWork && back.ops[6].entity.articleID == back.ops[0].entity.id)
    }

    @Test func `encoding refuses no ops, gaps and mixed replicas`() {
        let ops = ChangesetFixture.everyKind()
        #expect(throws: ChangesetError.self) { try Changeset.encode([]) }
        let gap = [ops[0], ops[2]]
        #expect((try? Changeset.encode(gap)) == nil)
        let mixed = [ops[0], ChangesetFixture.everyKind(ChangesetFixture.b, from: 2)[1]]
        do { _ = try Changeset.encode(mixed); Issue.record("mixed replicas accepted") } catch { #expect(error.code == .mixedReplicas) }
    }

    @Test func `a frame cut at any byte is refused`() throws {
        let bytes = try Changeset.encode(Array(ChangesetFixture.everyKind().prefix(3)))
        for n in 0..<bytes.count {
            let prefix = Array(bytes[..<n])
            #expect(throws: ChangesetError.self, "prefix of \(n) bytes") { try Changeset.decode(prefix, limits: .default) }
            #expect(throws: ChangesetError.self, "file prefix of \(n) bytes") { try Changeset.decodeAll(prefix, limits: .default) }
        }
    }

    /// Every bit of a small frame, then 5,000 seeded random bits of a larger one.
    ///
    /// A flip may be accepted only if it decodes to the very same ops: some bits of a zlib stream
    /// change nothing it inflates to (the unused padding after the final deflate block; a code
    /// length of a Huffman code no symbol of the block uses), and the SHA-256 over the inflated
    /// payload then holds. No data can change through them. The minor version (byte 5) needs no
    /// exclusion: the SHA-256 covers header bytes 0..<48.
    @Test(arguments: [(1, 0), (37, 5_000)])
    func `a flipped bit anywhere is refused, or changes nothing the frame inflates to`(opCount: Int, randomFlips: Int) throws {
        let ops =
            ChangesetFixture.everyKind().prefix(opCount)
            + ChangesetFixture.titleEdits(max(0, opCount - 7)).map {
                Op(id: OpID(replica: ChangesetFixture.a, counter: $0.id.counter + 7), hlc: $0.hlc, body: $0.body)
            }
        let bytes = try Changeset.encode(Array(ops))
        var rng = SeededRandom(seed: 2024)
        let flips =
            randomFlips > 0
            ? (0..<randomFlips).map { _ in (Int.random(in: 0..<bytes.count, using: &rng), Int.random(in: 0..<8, using: &rng)) }
            : (0..<bytes.count).flatMap { offset in (0..<8).map { (offset, $0) } }
        var refused = 0, unchanged = 0
        for (offset, bit) in flips {
            var flipped = bytes
            flipped[offset] ^= 1 << bit
            guard let decoded = try? Changeset.decode(flipped, limits: .default) else { refused += 1; continue }
            unchanged += 1
            #expect(decoded.ops == Array(ops), "flip of bit \(bit) at byte \(offset) accepted with other ops")
        }
        print("bit flips on a \(bytes.count)-byte frame: \(flips.count) tried, \(refused) refused, \(unchanged) inflating to the same payload")
        #expect(refused + unchanged == flips.count && unchanged * 100 < flips.count)
    }

    @Test func `a decompression bomb is refused within the memory limit`() throws {
        let bomb = ChangesetFixture.zeroBomb(size: 1 << 30)
        #expect(bomb.count < 1_100_000)  // ~1 MB of input claims 1 GiB
        let limit = 1 << 20
        do {
            _ = try Zlib.inflateChecked(bomb, expectedLength: 1 << 30, limit: limit)
            Issue.record("bomb inflated")
        } catch {
            // Refused with at most limit + 1 bytes ever produced: the memory budget held.
            #expect(error.kind == .overLimit)
            #expect(error.reason.contains("stopped after \(limit + 1) bytes"), "\(error.reason)")
        }
        // In a frame: a huge declared length is refused from the header alone…
        let big = ChangesetFixture.frame(payload: [], declared: 1 << 30, body: bomb, sha: [UInt8](repeating: 0, count: 32))
        #expect(throws: ChangesetError(.tooLarge, "declared payload of 1073741824 bytes exceeds the limit of 268435456")) {
            try Changeset.decode(big, limits: .default)
        }
        let roomy = ChangesetLimits(maxCompressedBytes: 1 << 30, maxUncompressedBytes: 1 << 31, maxInflateRatio: 200, maxOps: 10)
        do { _ = try Changeset.decode(big, limits: roomy); Issue.record("ratio not checked") } catch { #expect(error.code == .inflateRatio) }
        // …and a modest declared length with a body that inflates past it stops at that length.
        let lying = ChangesetFixture.frame(payload: [], declared: 4096, body: bomb, sha: [UInt8](repeating: 0, count: 32))
        do { _ = try Changeset.decode(lying, limits: .default); Issue.record("bomb accepted") } catch {
            #expect(error.code == .lengthMismatch && error.reason.contains("stopped after 4097 bytes"), "\(error)")
        }
    }

    @Test func `zlib refuses truncated, trailing and short streams`() throws {
        let data = Array("غزة ".utf8) + (0..<3000).map { UInt8($0 % 251) }
        let packed = Zlib.deflate(data)
        #expect(try Zlib.inflate(packed, expectedLength: data.count, limit: data.count) == data)
        #expect(throws: DecodeError.self) { try Zlib.inflate(Array(packed.dropLast(4)), expectedLength: data.count, limit: 1 << 20) }
        #expect(throws: DecodeError.self) { try Zlib.inflate(packed + [0], expectedLength: data.count, limit: 1 << 20) }
        #expect(throws: DecodeError.self) { try Zlib.inflate(packed, expectedLength: data.count + 1, limit: 1 << 20) }
        #expect(throws: DecodeError.self) { try Zlib.inflate(packed, expectedLength: data.count, limit: 100) }
        #expect(try Zlib.inflate(Zlib.deflate([]), expectedLength: 0, limit: 0) == [])
    }

    @Test func `unknown majors, frame types and encrypted frames are refused; newer minors are read`() throws {
        let payload = try payloadOf(Changeset.encode([ChangesetFixture.everyKind()[1]]))
        #expect(
            throws: ChangesetError(
                .unsupportedVersion, "unsupported changeset format version 4.1; this build reads 1, 2 and 3 (a newer synccli wrote it: upgrade)")
        ) {
            try Changeset.decode(ChangesetFixture.frame(major: 4, minor: 1, payload: payload), limits: .default)
        }
        #expect(
            throws: ChangesetError(.unsupportedFrameType, "a snapshot frame: this build reads only ops frames (type 1); a newer synccli wrote it")
        ) {
            try Changeset.decode(ChangesetFixture.frame(type: 2, payload: payload), limits: .default)
        }
        #expect(
            throws: ChangesetError(.unsupportedFrameType, "a frame of type 9: this build reads only ops frames (type 1); a newer synccli wrote it")
        ) {
            try Changeset.decode(ChangesetFixture.frame(type: 9, payload: payload), limits: .default)
        }
        #expect(throws: ChangesetError(.encrypted, "the frame is encrypted (key generation 4); this build reads only cleartext frames")) {
            try Changeset.decode(ChangesetFixture.frame(keyGeneration: 4, payload: payload), limits: .default)
        }
        // A newer minor of major 3 is read: minors only add things old readers may ignore.
        #expect(try Changeset.decode(ChangesetFixture.frame(minor: 9, payload: payload), limits: .default).ops.count == 1)
        for (first, last, count) in [(1, 1, 2), (1, 3, 2), (0, 0, 1), (5, 4, 0)] as [(UInt64, UInt64, UInt32)] {
            let frame = ChangesetFixture.frame(first: first, last: last, count: count, payload: payload)
            do { _ = try Changeset.decode(frame, limits: .default); Issue.record("accepted \(first)…\(last) × \(count)") } catch {
                #expect(error.code == .counterMismatch)
            }
        }
        // Consistent header, but the payload holds one op where the header promises two.
        let short = ChangesetFixture.frame(first: 1, last: 2, count: 2, payload: payload)
        do { _ = try Changeset.decode(short, limits: .default); Issue.record("missing op accepted") } catch {
            #expect(error.code == .malformedOps && error.reason.hasPrefix("op 2 of 2 (counter 2)"), "\(error)")
        }
        do { _ = try Changeset.decode(ChangesetFixture.frame(payload: payload + [0]), limits: .default); Issue.record("stray byte accepted") } catch {
            #expect(error.code == .malformedOps && error.reason.contains("1 stray bytes after the last column"), "\(error)")
        }
    }

    @Test func `the hash is checked before a single op is parsed`() throws {
        // Garbage ops with a consistent length: with the right hash it is a parse error…
        let garbage: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        do { _ = try Changeset.decode(ChangesetFixture.frame(major: 2, payload: garbage), limits: .default); Issue.record("garbage parsed") } catch {
            #expect(error.code == .malformedOps && error.reason.contains("unknown op flags 7"), "\(error)")
        }
        // …with a wrong hash the decoder stops at the hash and never reaches the op parser.
        let wrong = ChangesetFixture.frame(major: 2, payload: garbage, sha: [UInt8](repeating: 0xab, count: 32))
        #expect(throws: ChangesetError.self) { try Changeset.decode(wrong, limits: .default) }
        do { _ = try Changeset.decode(wrong, limits: .default) } catch { #expect(error.code == .checksumMismatch) }
    }

    @Test func `limits are checked from the header alone`() throws {
        let bytes = try Changeset.encode(ChangesetFixture.titleEdits(50))
        let tight = { (c: Int, u: Int, o: Int) in ChangesetLimits(maxCompressedBytes: c, maxUncompressedBytes: u, maxInflateRatio: 200, maxOps: o) }
        let cases: [(ChangesetLimits, ChangesetError.Code)] = [
            (tight(100, 1 << 20, 1000), .tooLarge), (tight(1 << 20, 100, 1000), .tooLarge), (tight(1 << 20, 1 << 20, 49), .tooManyOps),
        ]
        for (limits, code) in cases {
            do { _ = try Changeset.decode(bytes, limits: limits); Issue.record("not refused: \(code)") } catch { #expect(error.code == code) }
        }
        #expect(try Changeset.decode(bytes, limits: tight(1 << 20, 1 << 20, 50)).ops.count == 50)
    }

    /// The encoder must never produce what a default decoder refuses: highly repetitive ops
    /// deflate far beyond 200:1.
    @Test func `repetitive frames pass the default inflate ratio`() throws {
        let ops = (1...100_000).map {
            Op(
                id: OpID(replica: ChangesetFixture.a, counter: UInt64($0)), hlc: HLC(raw: UInt64($0)),
                body: .setAdd(.article("a1"), set: "tags", element: "x"))
        }
        let bytes = try Changeset.encode(ops)
        let header = try Changeset.inspectHeader(bytes)
        #expect(Int(header.uncompressedLength) > 200 * Int(header.compressedLength))
        #expect(try Changeset.decode(bytes, limits: .default).ops.count == 100_000)
    }

    @Test func `a file holds frames back to back, each verified`() throws {
        let one = try Changeset.encode(ChangesetFixture.everyKind())
        let two = try Changeset.encode(ChangesetFixture.everyKind(ChangesetFixture.b, from: 100))
        let frames = try Changeset.decodeAll(one + two, limits: .default)
        #expect(frames.map(\.replica) == [ChangesetFixture.a, ChangesetFixture.b] && frames[1].firstCounter == 100)
        #expect(throws: ChangesetError(.empty, "the changeset file is empty")) { try Changeset.decodeAll([], limits: .default) }
        do { _ = try Changeset.decodeAll(one + two.dropLast(), limits: .default); Issue.record("cut file accepted") } catch {
            #expect(error.code == .truncated && error.reason.hasPrefix("frame 2 at byte \(one.count):"), "\(error)")
        }
        do { _ = try Changeset.decodeAll(one + [0x41], limits: .default); Issue.record("trailing byte accepted") } catch {
            #expect(error.code == .truncated, "\(error)")
        }
        do { _ = try Changeset.decode(one + two, limits: .default); Issue.record("two frames as one") } catch {
            #expect(error.code == .lengthMismatch)
        }
        #expect(throws: ChangesetError.self) { try Changeset.decode(Array("PK\u{3}\u{4}hello".utf8), limits: .default) }
    }

    @Test func `a frame is far smaller than the same ops as JSON`() throws {
        let ops = ChangesetFixture.titleEdits(1_000)
        let frame = try Changeset.encode(ops)
        let header = try Changeset.inspectHeader(frame)
        let json = try JSONSerialization.data(withJSONObject: ops.map(Self.json), options: [.sortedKeys])
        let jsonZ = Zlib.deflate(Array(json))
        print(
            "1,000 title edits: changeset frame \(frame.count) B (payload \(header.uncompressedLength) B); JSON \(json.count) B, JSON+zlib \(jsonZ.count) B"
        )
        #expect(frame.count < jsonZ.count)
    }

    static let workedExampleOps: [Op] = {
        let article = EntityRef.article("a1")
        return [
            Op(
                id: OpID(replica: ChangesetFixture.a, counter: 1), hlc: HLC(millis: 1_718_000_000_000),
                body: .assign(article, [FieldWrite("title", .string("غزة"))])),
            Op(
                id: OpID(replica: ChangesetFixture.a, counter: 2), hlc: HLC(millis: 1_718_000_000_000, counter: 1),
                body: .setAdd(article, set: "tags", element: "news")),
        ]
    }()

    /// The worked example in Protocol.md, printed from the real encoder.
    @Test func `the worked example of Protocol.md is what the encoder writes`() throws {
        let frame = try Changeset.encode(Self.workedExampleOps)
        let payload = try payloadOf(frame)
        #expect(
            payload.hexString == "019000c79c000000" + "0b" + "00" + "02" + "07" + "06" + "02" + "02" + "00" + "03" + "0b" + "06" + "04"
                + "0002" + "02010104" + "020102" + "000100" + "020100" + "0100" + "0604" + "026131" + "057469746c65" + "0474616773"
                + "d8bad8b2d8a9" + "6e657773")
        #expect(
            Array(frame[..<48]).hexString == "41534353" + "0300" + "0100" + "000102030405060708090a0b0c0d0e0f"
                + "0000000000000001" + "0000000000000002" + "00000002" + "0000003f")
        print("worked example frame (\(frame.count) B):\n" + frame.hexString + "\npayload:\n" + payload.hexString)
    }

    /// The same ops in format 2, which this version writes for a server of the previous version.
    @Test func `the format-2 example of Protocol.md is what the encoder writes`() throws {
        let frame = try Changeset.encode(Self.workedExampleOps, format: 2)
        let payload = try payloadOf(frame)
        #expect(
            payload.hexString == "019000c79c000000" + "0002" + "0102613100" + "0110" + "01057469746c650406d8bad8b2d8a900"
                + "0202" + "0102613100" + "020a" + "0474616773046e657773")
        #expect(
            Array(frame[..<48]).hexString == "41534353" + "0200" + "0100" + "000102030405060708090a0b0c0d0e0f"
                + "0000000000000001" + "0000000000000002" + "00000002" + "00000034")
        print("worked example frame (\(frame.count) B):\n" + frame.hexString + "\npayload:\n" + payload.hexString)
    }

    /// Protocol.md's worked example as wave 1 wrote it (format 1, 136 bytes, zlib of that build):
    /// stores of format 2 still read it, to the same ops.
    @Test func `a format-1 frame written by a wave-1 store is still read`() throws {
        let v1 = """
            415343530100000102030405060708090a0b0c0d0e0f000000000000000100000000000000020000000200000032e3f9\
            10db9715d6068fc847e475bee45eca85838b5b610ee570b521550be245de00000036789c639cc0707c0e0308308a3032\
            251a32b2966496e4a4b2b0ddd87563d38d950c4c0c4c7c20719692c4f46296bcd4f2620037a50d89
            """
        let bytes = try #require(Self.hexBytes(v1))
        let frame = try Changeset.decode(bytes, limits: .default)
        #expect(frame.format == 1)
        #expect(frame.ops == Self.workedExampleOps)
    }

    static func hexBytes(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.filter { !$0.isWhitespace })
        guard digits.count % 2 == 0 else { return nil }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16) }
            .reduce(into: [UInt8]?([])) { acc, b in if let b, acc != nil { acc!.append(b) } else { acc = nil } }
    }

    func payloadOf(_ frame: [UInt8]) throws -> [UInt8] {
        let h = try Changeset.inspectHeader(frame)
        return try Zlib.inflate(Array(frame[h.headerSize...]), expectedLength: Int(h.uncompressedLength), limit: Int(h.uncompressedLength))
    }

    static func json(_ op: Op) -> [String: Any] {
        guard case .assign(let e, let writes) = op.body else { return [:] }
        return [
            "id": ["replica": op.id.replica.description, "counter": op.id.counter], "hlc": op.hlc.raw,
            "entity": ["kind": e.kind.name, "id": e.id],
            "writes": writes.map {
                [
                    "field": $0.field, "value": $0.value.description,
                    "prev": $0.prev.map { ["replica": $0.replica.description, "counter": $0.counter] },
                ]
            },
        ]
    }
}
