import TestHarness
import Testing

@testable import SyncModel

func replica(_ n: UInt8) -> ReplicaID { ReplicaID(bytes: [UInt8](repeating: n, count: 16))! }

@Suite struct TextSequenceTests {
    let me = replica(1)
    let you = replica(2)

    @Test func `local inserts and deletes read back as the text`() throws {
        var text = TextSequence()
        _ = text.insert("غزة مدينة", at: 0, by: me)
        _ = text.insert(" قديمة", at: 9, by: me)
        _ = text.insert("قطاع ", at: 0, by: me)
        #expect(text.text == "قطاع غزة مدينة قديمة")
        _ = text.delete(4..<8, by: me)
        #expect(text.text == "قطاع مدينة قديمة")
        #expect(text.count == 16)
        #expect(text.totalCount == 20)
    }

    @Test func `another replica applying the edits gets the same text, and a second time changes nothing`() {
        var a = TextSequence()
        var edits: [TextEdit] = []
        edits.append(.insert(a.insert("Hello world", at: 0, by: me)!))
        edits.append(.delete(a.delete(5..<11, by: me)!))
        edits.append(.insert(a.insert(", reader", at: 5, by: me)!))
        var b = TextSequence()
        for edit in edits { #expect(b.apply(edit) == .applied) }
        #expect(b.text == "Hello, reader")
        for edit in edits { #expect(b.apply(edit) == .duplicate) }
        #expect(b.text == a.text)
        #expect(b.spans == a.spans)
    }

    @Test func `an edit whose neighbours have not arrived waits and applies when they do`() {
        var a = TextSequence()
        let first = a.insert("abc", at: 0, by: me)!
        let second = a.insert("XY", at: 1, by: me)!
        let gone = a.delete(0..<1, by: me)!
        var b = TextSequence()
        #expect(b.apply(.delete(gone)) == .waiting)
        #expect(b.apply(.insert(second)) == .waiting)
        #expect(b.pendingCount == 2)
        #expect(b.text == "")
        #expect(b.apply(.insert(first)) == .applied)
        #expect(b.pendingCount == 0)
        #expect(b.text == a.text)
        #expect(b.text == "XYbc")
    }

    @Test func `two replicas typing at the same place, forwards or backwards, give two blocks`() {
        for backwards in [false, true] {
            var base = TextSequence()
            let start = base.insert("[]", at: 0, by: replica(9))!
            var a = base
            var b = base
            var edits: [TextEdit] = []
            for (k, ch) in "alpha".unicodeScalars.enumerated() {
                edits.append(.insert(a.insert(CollectionOfOne(ch), at: backwards ? 1 : 1 + k, by: me)!))
            }
            for (k, ch) in "omega".unicodeScalars.enumerated() {
                edits.append(.insert(b.insert(CollectionOfOne(ch), at: backwards ? 1 : 1 + k, by: you)!))
            }
            var merged = TextSequence()
            merged.apply(.insert(start))
            for edit in edits.reversed() { merged.apply(edit) }
            let words = backwards ? ("ahpla", "agemo") : ("alpha", "omega")
            #expect(merged.text == "[\(words.0)\(words.1)]" || merged.text == "[\(words.1)\(words.0)]", "got \(merged.text)")
        }
    }

    /// Appendix A.1.9 of Weidner & Kleppmann's Fugue paper: with three replicas Yjs's rule gives
    /// "axb", splitting the "ab" one replica wrote. FugueMax keeps it together.
    @Test func `the three-replica case where Yjs interleaves keeps a next to b`() {
        var r3 = TextSequence()
        let b = r3.insert("b", at: 0, by: replica(3))!
        var r1 = TextSequence()
        r1.apply(.insert(b))
        let a = r1.insert("a", at: 0, by: replica(1))!
        var r2 = TextSequence()
        let x = r2.insert("x", at: 0, by: replica(2))!
        for order in [[TextEdit.insert(b), .insert(a), .insert(x)], [.insert(x), .insert(b), .insert(a)], [.insert(b), .insert(x), .insert(a)]] {
            var merged = TextSequence()
            for edit in order { merged.apply(edit) }
            #expect(merged.text == "xab" || merged.text == "abx", "got \(merged.text)")
            #expect(merged.text == "xab")
        }
    }

    /// Protocol.md, "Text ops", worked example, step by step.
    @Test func `the worked example of Protocol.md merges as written`() {
        let (a, b, c) = (replica(1), replica(2), replica(3))
        var base = TextSequence()
        let ab = base.insert("ab", at: 0, by: a)!
        var onB = base
        var onC = base
        let x = onB.insert("X", at: 1, by: b)!
        let y = onC.insert("Y", at: 1, by: c)!
        #expect(x.left == CharID(replica: a, seq: 0) && x.right == CharID(replica: a, seq: 1))
        for order in [[x, y], [y, x]] {
            var merged = TextSequence()
            merged.apply(.insert(ab))
            for edit in order { merged.apply(.insert(edit)) }
            #expect(merged.text == "aXYb")
        }
        let z = onB.insert("Z", at: 2, by: b)!
        #expect(z.id == CharID(replica: b, seq: 1) && z.left == x.id && z.right == CharID(replica: a, seq: 1))
        for order in [[x, y, z], [y, x, z], [x, z, y]] {
            var merged = TextSequence()
            merged.apply(.insert(ab))
            for edit in order { merged.apply(.insert(edit)) }
            #expect(merged.text == "aXZYb")
        }
    }

    @Test func `replacing the whole text sends only what changed`() {
        var text = TextSequence()
        let old = "الجملة الأولى. الجملة الثانية. الجملة الثالثة."
        _ = text.insert(old, at: 0, by: me)
        let new = "الجملة الأولى. جملة جديدة هنا. الجملة الثالثة."
        let edits = text.replace(with: Array(new.unicodeScalars), by: me)
        #expect(text.text == new)
        let insertedScalars = edits.reduce(0) { n, edit in
            if case .insert(let i) = edit { return n + i.text.count }
            return n
        }
        #expect(insertedScalars < 20, "the diff re-inserted \(insertedScalars) scalars")
        var other = TextSequence()
        _ = other.apply(.insert(TextInsert(id: CharID(replica: me, seq: 0), left: nil, right: nil, text: Array(old.unicodeScalars))))
        for edit in edits { other.apply(edit) }
        #expect(other.text == new)
    }

    @Test func `spans load back into the same text`() throws {
        var text = TextSequence()
        _ = text.insert("one two three", at: 0, by: me)
        _ = text.delete(3..<7, by: me)
        _ = text.insert("2", at: 3, by: you)
        let loaded = try #require(TextSequence(spans: text.spans))
        #expect(loaded.text == text.text)
        #expect(loaded.spans == text.spans)
        var next = loaded
        let edit = next.insert("!", at: next.count, by: me)!
        #expect(edit.id.seq == 13)
        #expect(
            TextSequence(spans: [
                TextSequence.Span(id: CharID(replica: me, seq: 0), left: CharID(replica: you, seq: 5), right: nil, deleted: false, text: ["a"])
            ]) == nil)
    }
}

/// Random concurrent splices on several replicas, delivered late, out of order and twice.
@Suite struct TextConvergenceTests {
    struct Message {
        let edit: TextEdit
    }

    static let seeds: [UInt64] = Array(1...40)

    @Test(arguments: seeds)
    func `replicas converge to the reference text whatever the delivery`(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let n = 3 + Int(seed % 3)
        let ids = (0..<n).map { replica(UInt8(10 + $0)) }
        var texts = [TextSequence](repeating: TextSequence(), count: n)
        var inboxes = [[TextEdit]](repeating: [], count: n)
        var log: [TextEdit] = []
        let words = ["غزة ", "بيروت ", "news ", "ا", "ب", "x", "yz", "قال المراسل "]
        for _ in 0..<300 {
            let r = random.int(below: n)
            switch random.weighted([5, 3, 6]) {
            case 0:
                let word = random.pick(words)!
                let at = random.int(0...texts[r].count)
                let edit = TextEdit.insert(texts[r].insert(word, at: at, by: ids[r])!)
                log.append(edit)
                for other in 0..<n where other != r { inboxes[other].append(edit) }
            case 1:
                guard texts[r].count > 0 else { continue }
                let at = random.int(below: texts[r].count)
                let length = min(random.int(1...6), texts[r].count - at)
                let edit = TextEdit.delete(texts[r].delete(at..<at + length, by: ids[r])!)
                log.append(edit)
                for other in 0..<n where other != r { inboxes[other].append(edit) }
            default:
                // Deliver one message, picked at random from the inbox; sometimes keep it there
                // to deliver again later.
                guard !inboxes[r].isEmpty else { continue }
                let k = random.int(below: inboxes[r].count)
                let edit = random.chance(0.2) ? inboxes[r][k] : inboxes[r].remove(at: k)
                texts[r].apply(edit)
            }
        }
        for r in 0..<n {
            for edit in inboxes[r].shuffled(using: &random) { texts[r].apply(edit) }
            #expect(texts[r].pendingCount == 0)
        }
        var reference = ReferenceSequence()
        for edit in log { reference.apply(edit) }
        for r in 0..<n {
            #expect(texts[r].text == reference.text, "seed \(seed): replica \(r) differs from the reference")
            let sameSpans = texts[r].spans == texts[0].spans
            #expect(sameSpans, "seed \(seed): replica \(r) has other spans than replica 0")
        }
    }
}
