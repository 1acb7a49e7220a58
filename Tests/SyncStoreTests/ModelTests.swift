import Foundation
import SyncModel
import SyncWire
import TestHarness
import Testing

@testable import SyncStore

/// A wall clock a test can move, in either direction.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64
    init(_ start: UInt64 = Store.systemClock()) { value = start }
    var now: UInt64 { lock.withLock { value } }
    func set(_ v: UInt64) { lock.withLock { value = v } }
    func advance(_ ms: Int64) { lock.withLock { value = UInt64(Int64(value) + ms) } }
    var closure: @Sendable () -> UInt64 { { [self] in self.now } }
}

@Suite struct ClockTests {
    @Test func `a wall clock jumping back does not move the clock backwards, in memory or on disk`() throws {
        let clock = TestClock()
        let store = try temporaryStore(now: clock.closure)
        let id = try store.addArticle(ArticleDraft(title: "T", body: "b")).id
        let before = try store.clock()
        clock.advance(-3_600_000)  // an hour back
        try store.editArticle(id, [(ArticleFields.title, "T2")])
        let after = try store.clock()
        #expect(after > before)
        let reopened = try Store.open(at: store.path, now: clock.closure)
        #expect(try reopened.clock() == after)
        #expect(try reopened.tickClock() > after)
    }

    @Test func `receiving a remote op advances the clock past it`() throws {
        let clockA = TestClock(), clockB = TestClock()
        clockA.advance(5 * 60_000)  // A runs five minutes fast, within the skew bound
        let a = try temporaryStore(name: "A", now: clockA.closure)
        let b = try temporaryStore(name: "B", now: clockB.closure)
        try a.addArticle(ArticleDraft(title: "T", body: "b"))
        let remote = try a.clock()
        try b.merge(try a.ops())
        #expect(try b.clock() > remote)
        #expect(try b.tickClock() > remote)
    }

    @Test func `ops stamped too far in the future are refused and nothing is applied`() throws {
        let fast = TestClock()
        fast.advance(24 * 3_600_000)  // a day ahead
        let a = try temporaryStore(name: "A", now: fast.closure)
        let b = try temporaryStore(name: "B")
        try a.addArticle(ArticleDraft(title: "T", body: "b"))
        #expect {
            try b.merge(try a.ops())
        } throws: { ($0 as? StoreError)?.code == .futureTimestamp }
        #expect(try b.counts()["ops"] == 0)
        // The bound is configurable: a receiver that accepts two days of skew takes it.
        let tolerant = try Store.open(at: b.path, maxClockSkewMillis: 2 * 24 * 3_600_000)
        #expect(try tolerant.merge(try a.ops()).applied == 1)
    }
}

@Suite struct TransactionTests {
    @Test func `a command that fails half way leaves neither its ops nor their effects`() throws {
        let store = try temporaryStore()
        let id = try store.addArticle(ArticleDraft(title: "T", body: "b"), tags: ["a"]).id
        let ops = try store.counts()["ops"]
        let dump = try store.canonicalDump()
        // "a" would be removed first, then "missing" fails: the whole command rolls back.
        #expect(throws: StoreError.self) { try store.removeTags(["a", "missing"], from: id) }
        #expect(try store.counts()["ops"] == ops)
        #expect(try store.canonicalDump() == dump)
        #expect(try store.article(id).tags == ["a"])
    }

    @Test func `a merge whose final step fails applies nothing`() throws {
        let a = try temporaryStore(name: "A"), b = try temporaryStore(name: "B")
        try a.addArticle(ArticleDraft(title: "T", body: "b"))
        struct Boom: Error {}
        #expect(throws: Boom.self) { try b.merge(try a.ops(), updatingSyncState: { _ in throw Boom() }) }
        #expect(try b.counts()["ops"] == 0)
        #expect(try b.listArticles().isEmpty)
    }
}

@Suite struct ArticleIdentityTests {
    @Test func `the same story captured twice is one article`() throws {
        let store = try temporaryStore()
        let first = try store.addArticle(ArticleDraft(url: "https://example.com/story?utm_source=a", title: "T", body: "x"), tags: ["a"])
        let second = try store.addArticle(ArticleDraft(url: "https://EXAMPLE.com/story/#top", title: "T (updated)", body: "y"), tags: ["b"])
        #expect(first.created && !second.created)
        #expect(first.id == second.id)
        #expect(try store.listArticles().count == 1)
        #expect(try store.article(first.id).tags == ["a", "b"])
        // Without a URL, the normalised text decides: whitespace and case do not matter.
        let t1 = try store.addArticle(ArticleDraft(title: "عنوان  الخبر", body: "نص\nالخبر"))
        let t2 = try store.addArticle(ArticleDraft(title: "عنوان الخبر", body: "نص الخبر "))
        #expect(t1.id == t2.id && !t2.created)
        let t3 = try store.addArticle(ArticleDraft(title: "عنوان الخبر", body: "نص آخر"))
        #expect(t3.id != t1.id)
    }

    @Test func `the same story captured on two laptops offline merges into one`() throws {
        let a = try temporaryStore(name: "A"), b = try temporaryStore(name: "B")
        let idA = try a.addArticle(ArticleDraft(url: "https://example.com/s", title: "T", body: "غزة غزة"), tags: ["a"]).id
        let idB = try b.addArticle(ArticleDraft(url: "https://example.com/s", title: "T", body: "غزة غزة"), tags: ["b"]).id
        try a.highlight(article: idA, .quote("غزة", occurrence: 1))
        try b.highlight(article: idB, .quote("غزة", occurrence: 2))
        try a.merge(try b.ops()); try b.merge(try a.ops())
        #expect(idA == idB)
        #expect(try a.canonicalDump() == b.canonicalDump())
        let merged = try a.article(idA)
        #expect(merged.tags == ["a", "b"])
        #expect(merged.annotations.count == 2)
        #expect(try a.conflicts().count == 0)  // captured_at/by differ, but that is provenance, not a conflict
    }
}
