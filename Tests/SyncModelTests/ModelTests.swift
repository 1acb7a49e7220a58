import Foundation
import TestHarness
import Testing

@testable import SyncModel

@Suite struct HLCTests {
    @Test func `local timestamps are strictly increasing even when the wall clock stands still`() {
        var last = HLC.zero
        for _ in 0..<1000 {
            let next = HLC.tick(last: last, nowMillis: 5_000)
            #expect(next > last)
            last = next
        }
        #expect(last.millis == 5_000)
    }
}

@Suite struct ArticleIdentityTests {
    @Test(arguments: [
        ("HTTPS://WWW.Example.com/news/1/?utm_source=tw&utm_medium=x#comments", "https://www.example.com/news/1"),
        ("https://example.com:443/a/b/", "https://example.com/a/b"),
        ("http://example.com:80/", "http://example.com"),
        ("https://example.com/a?b=2&a=1&fbclid=zz", "https://example.com/a?a=1&b=2"),
        ("https://example.com/%D8%BA%D8%B2%D8%A9", "https://example.com/%D8%BA%D8%B2%D8%A9"),
    ])
    func `URLs are canonicalised`(raw: String, canonical: String) {
        #expect(ArticleIdentity.canonicalURL(raw) == canonical)
    }

    @Test func `non-http URLs are not canonical`() {
        #expect(ArticleIdentity.canonicalURL("ftp://example.com/x") == nil)
        #expect(ArticleIdentity.canonicalURL("not a url") == nil)
        #expect(ArticleIdentity.canonicalURL("/relative/path") == nil)
    }
}

@Suite struct AnchorTests {
    @Test func `highlights are anchored in Unicode scalars of the NFC body`() throws {
        let body = "قطاع غزّة، ثم غزّة مرة أخرى"
        let second = try #require(Anchor.find("غزّة", in: body, occurrence: 2))
        let scalars = Array(body.unicodeScalars)
        #expect(String(String.UnicodeScalarView(scalars[second.start..<second.end])) == "غزّة")
        #expect(Anchor.find("غزّة", in: body, occurrence: 3) == nil)
        let selector = try #require(Anchor.selector(start: second.start, end: second.end, in: body))
        #expect(selector.exact == "غزّة")
        #expect(selector.prefix.hasSuffix("ثم "))
        #expect(selector.suffix.hasPrefix(" مرة"))
    }
}

@Suite struct MergeLawTests {
    static let replicas = (1...3).map { ReplicaID(bytes: Array(repeating: UInt8($0), count: 16))! }

    /// Random writes of one field: each names a random subset of earlier writes as `prev`; HLCs
    /// come from a tiny range so ties between replicas are common.
    static func randomWrites(_ rng: inout SeededRandom) -> [(id: OpID, hlc: HLC, value: Value, prev: [OpID])] {
        var counters = [UInt64](repeating: 0, count: replicas.count)
        var writes: [(id: OpID, hlc: HLC, value: Value, prev: [OpID])] = []
        for _ in 0..<rng.int(1...12) {
            let r = rng.int(below: replicas.count)
            counters[r] += 1
            let prev = writes.filter { _ in rng.chance(0.3) }.map(\.id)
            writes.append(
                (
                    OpID(replica: replicas[r], counter: counters[r]), HLC(millis: UInt64(rng.int(0...3))),
                    .string("v\(rng.int(0...3))"), prev
                ))
        }
        return writes
    }

    /// A delivery of `items`: shuffled, some repeated.
    static func delivery<T>(_ items: [T], _ rng: inout SeededRandom) -> [T] {
        var out = items
        for _ in 0..<rng.int(0...items.count) { out.append(rng.pick(items)!) }
        out.shuffle(using: &rng)
        return out
    }

    @Test func `LWWRegister is commutative and idempotent over permutations and duplicates`() {
        for seed in UInt64(0)..<2_000 {
            var rng = SeededRandom(seed: seed)
            let writes = Self.randomWrites(&rng)
            var reference = LWWRegister()
            for w in writes { reference.apply(id: w.id, hlc: w.hlc, value: w.value, prev: w.prev) }
            // Independent expectation: the newest write that no other write names in `prev`.
            let seen = Set(writes.flatMap { w in w.prev.filter { $0 != w.id } })
            let expected = writes.filter { !seen.contains($0.id) }.max { Stamp(hlc: $0.hlc, op: $0.id) < Stamp(hlc: $1.hlc, op: $1.id) }
            #expect(reference.winner?.id == expected?.id, "seed \(seed)")
            for _ in 0..<4 {
                var other = LWWRegister()
                for w in Self.delivery(writes, &rng) { other.apply(id: w.id, hlc: w.hlc, value: w.value, prev: w.prev) }
                #expect(other == reference, "seed \(seed): order or duplication changed the register")
                let again = other
                for w in writes { #expect(other.apply(id: w.id, hlc: w.hlc, value: w.value, prev: w.prev).isEmpty, "seed \(seed)") }
                #expect(other == again, "seed \(seed): re-applying changed the register")
            }
        }
    }

    @Test func `AddWinsSet is commutative and idempotent, and a concurrent add survives a remove`() {
        enum Step { case add(String, OpID), remove(String, [OpID]) }
        for seed in UInt64(0)..<2_000 {
            var rng = SeededRandom(seed: seed)
            var steps: [Step] = []
            var counters = [UInt64](repeating: 0, count: Self.replicas.count)
            var addsSoFar: [(String, OpID)] = []
            for _ in 0..<rng.int(1...12) {
                let r = rng.int(below: Self.replicas.count)
                counters[r] += 1
                let id = OpID(replica: Self.replicas[r], counter: counters[r])
                let element = rng.pick(["a", "b", "c"])!
                if rng.chance(0.6) {
                    steps.append(.add(element, id)); addsSoFar.append((element, id))
                } else {
                    // A remove observes some of the earlier adds of its element (those its author saw).
                    steps.append(.remove(element, addsSoFar.filter { $0.0 == element && rng.chance(0.6) }.map(\.1)))
                }
            }
            func play(_ steps: [Step]) -> AddWinsSet {
                var set = AddWinsSet()
                for step in steps {
                    switch step {
                    case .add(let e, let id): set.add(e, id: id)
                    case .remove(let e, let observed): set.remove(e, observed: observed)
                    }
                }
                return set
            }
            let reference = play(steps)
            var removed = Set<OpID>()
            for case .remove(_, let observed) in steps { removed.formUnion(observed) }
            var expected = Set<String>()
            for case .add(let e, let id) in steps where !removed.contains(id) { expected.insert(e) }
            #expect(reference.elements == expected.sorted(), "seed \(seed): an add no remove observed must survive")
            for _ in 0..<4 {
                let other = play(Self.delivery(steps, &rng))
                #expect(other == reference, "seed \(seed): order or duplication changed the set")
                #expect(play(steps + steps) == reference, "seed \(seed): replaying changed the set")
            }
        }
    }

    @Test func `the test-only faults are off by default and scoped to the task that sets them`() async {
        #expect(MergeFaults.active.isEmpty)
        await MergeFaults.$active.withValue(.removeWins) {
            #expect(MergeFaults.active == .removeWins)
            var set = AddWinsSet()
            let a = OpID(replica: Self.replicas[0], counter: 1), b = OpID(replica: Self.replicas[1], counter: 1)
            set.add("x", id: a); set.add("x", id: b)
            set.remove("x", observed: [a])
            #expect(set.elements.isEmpty)  // the unobserved add b was wrongly removed
            await Task.detached { #expect(MergeFaults.active.isEmpty) }.value
        }
        #expect(MergeFaults.active.isEmpty)
    }
}
