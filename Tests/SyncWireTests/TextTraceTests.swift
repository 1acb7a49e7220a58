import BenchKit
import Foundation
import TestHarness
import Testing

@testable import SyncModel
@testable import SyncWire

/// Real editing traces (josephg/editing-traces, CC BY 4.0; Tests/Fixtures/traces/README.md).
@Suite struct TextTraceTests {
    static func trace(_ name: String) throws -> EditingTrace {
        try EditingTrace.load(CLI.packageRoot.appendingPathComponent("Tests/Fixtures/traces/\(name)").path)
    }

    @Test func `automerge-paper replays to its endContent, and its history loads on a fresh replica`() throws {
        let trace = try Self.trace("automerge-paper.json.gz")
        #expect(!trace.isConcurrent)
        #expect(trace.patchCount == 259_778)
        let replay = trace.replay()
        #expect(replay.texts[0].text == trace.endContent)

        // Every keystroke, applied on a replica that typed none of them.
        var fresh = TextSequence()
        for edit in replay.edits { fresh.apply(edit) }
        #expect(fresh.text == trace.endContent)
        #expect(fresh.spans == replay.texts[0].spans)

        // The compact history (one insert per typed run) rebuilds the same state, ids included.
        var compact = TextSequence()
        for edit in replay.texts[0].historyEdits { compact.apply(edit) }
        #expect(compact.pendingCount == 0)
        #expect(TextStateCodec.encode(compact) == TextStateCodec.encode(replay.texts[0]))
    }

    @Test func `friendsforever converges to its endContent on both agents`() throws {
        let trace = try Self.trace("friendsforever.json.gz")
        #expect(trace.isConcurrent)
        #expect(trace.agents == 2)
        let replay = trace.replay()
        for text in replay.texts {
            #expect(text.text == trace.endContent)
            #expect(text.pendingCount == 0)
        }
        #expect(TextStateCodec.encode(replay.texts[0]) == TextStateCodec.encode(replay.texts[1]))
        // A third replica getting every edit in reverse order (each waits for its origins).
        var late = TextSequence()
        for edit in replay.edits.reversed() { late.apply(edit) }
        #expect(late.text == trace.endContent)
        #expect(late.pendingCount == 0)
    }
}

@Suite struct TextCodecTests {
    let me = ReplicaID(bytes: [UInt8](repeating: 1, count: 16))!
    let you = ReplicaID(bytes: [UInt8](repeating: 2, count: 16))!

    func roundTrip(_ body: OpBody) throws -> OpBody {
        let op = Op(id: OpID(replica: me, counter: 1), hlc: HLC(millis: 1, counter: 0), body: body)
        return try OpCodec.decodeBody(OpCodec.encodeBody(op)).body
    }

    @Test func `text ops round-trip through the op codec`() throws {
        let insert = TextInsert(
            id: CharID(replica: me, seq: 7), left: CharID(replica: me, seq: 6), right: CharID(replica: you, seq: 0),
            text: Array("غزة ".unicodeScalars))
        let bodies: [OpBody] = [
            .text(.article("a1"), field: "body", .insert(insert)),
            .text(.article("a1"), field: "body", .insert(TextInsert(id: CharID(replica: you, seq: 0), left: nil, right: nil, text: ["x"]))),
            .text(
                .annotation("n1", article: "a1"), field: "note",
                .delete(TextDelete(ranges: [CharRange(replica: me, seq: 3, count: 2), CharRange(replica: you, seq: 0, count: 1)]))),
        ]
        for body in bodies { #expect(try roundTrip(body) == body) }
        let op = Op(id: OpID(replica: me, counter: 1), hlc: HLC(millis: 1, counter: 0), body: bodies[0])
        #expect(op.countsAsWork)
    }

    @Test func `malformed text payloads are refused with a reason`() throws {
        func payload(_ kind: UInt8, _ build: (inout ByteWriter) -> Void) -> [UInt8] {
            var p = ByteWriter()
            build(&p)
            var w = ByteWriter()
            w.u8(0)
            w.u8(EntityRef.Kind.article.rawValue)
            w.string("a1")
            w.string("")
            w.u8(kind)
            w.varint(UInt64(p.bytes.count))
            w.raw(p.bytes)
            return w.bytes
        }
        let emptyInsert = payload(OpCodec.textInsertKind) { p in
            p.string("body")
            p.u8(0)
            p.raw(me.bytes)
            p.varint(0)
            p.string("")
        }
        let noRanges = payload(OpCodec.textDeleteKind) { p in
            p.string("body")
            p.varint(0)
        }
        let hugeSeq = payload(OpCodec.textInsertKind) { p in
            p.string("body")
            p.u8(0)
            p.raw(me.bytes)
            p.varint(UInt64(UInt32.max))
            p.string("ab")
        }
        for bytes in [emptyInsert, noRanges, hugeSeq] {
            #expect(throws: DecodeError.self) { try OpCodec.decodeBody(bytes) }
        }
    }

    /// Found by the fuzzer: a format-1 op of kind 4 or 5 was read as an unknown kind, then
    /// re-encoded in format 2 as a text op it is not (an empty field name).
    @Test func `a format-1 op of a text kind is refused`() throws {
        for kind in [OpCodec.textInsertKind, OpCodec.textDeleteKind] {
            var r = ByteReader([0, kind, 7, 0, 0x89, 0, 0, 0xff, 0x32, 0xff])
            #expect(throws: DecodeError.self) { try OpCodec.decodeBody(&r, format: 1) }
        }
    }

    @Test func `the state encoding is canonical and loads back`() throws {
        var a = TextSequence()
        var edits: [TextEdit] = []
        edits.append(.insert(a.insert("The quick brown fox", at: 0, by: me)!))
        edits.append(.delete(a.delete(4..<10, by: me)!))
        edits.append(.insert(a.insert("slow ", at: 4, by: me)!))
        var b = TextSequence()
        edits.append(.insert(b.insert("!", at: 0, by: you)!))
        for edit in edits.prefix(3) { b.apply(edit) }
        a.apply(edits[3])
        #expect(a.text == b.text)
        let bytes = TextStateCodec.encode(a)
        #expect(bytes == TextStateCodec.encode(b))
        let loaded = try TextStateCodec.decode(bytes)
        #expect(loaded.text == a.text)
        #expect(TextStateCodec.encode(loaded) == bytes)
        #expect(throws: DecodeError.self) { try TextStateCodec.decode(Array(bytes.dropLast())) }
    }
}
