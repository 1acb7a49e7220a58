import Foundation
import SyncModel
import SyncWire
import TestHarness
import Testing

@testable import SyncStore

/// Regression (fault suite, clock-skew phase): a laptop whose clock is an hour BEHIND refused a
/// pull saying "the clock of replica <other> is wrong" — blaming a laptop with a correct clock.
/// The message must name both possibilities, this laptop's clock first.
@Suite("clock skew message")
struct ClockSkewMessageTests {
    @Test func `a refusal of future ops says this laptop's clock may be behind`() throws {
        let slow = TestClock()
        slow.advance(-3_600_000)  // an hour behind
        let a = try temporaryStore(name: "A")
        let b = try temporaryStore(name: "B", now: slow.closure)
        try a.addArticle(ArticleDraft(title: "T", body: "b"))
        do {
            try b.merge(try a.ops())
            Issue.record("ops an hour ahead of B's clock were applied")
        } catch let error as StoreError {
            #expect(error.code == .futureTimestamp)
            #expect(error.reason.contains("this laptop's clock is behind"))
            #expect(error.reason.contains("nothing was applied"))
        }
        #expect(try b.counts()["ops"] == 0)
    }
}
