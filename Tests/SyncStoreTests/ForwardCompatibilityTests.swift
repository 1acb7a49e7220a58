import Foundation
import SyncModel
import SyncWire
import TestHarness
import Testing

@testable import SyncStore

/// A store must compute the same state from the same ops whether or not it knows every op kind
/// in them: ops of a kind it does not know are stored, relayed byte for byte, filed under the
/// article their envelope names, and count as work there when the envelope says so.
@Suite struct ForwardCompatibilityTests {
    /// A replica of a newer version: it knows op kind 200 ("reading position": payload = a
    /// scalar offset) and entity kind 9 ("bookmark", owned by an article). Its ops are made by
    /// hand here, envelope and all, exactly as that version would write them.
    struct NewerReplica {
        let replica = ReplicaID.random()
        var counter: UInt64 = 0
        var hlc: HLC

        init(now: UInt64) { hlc = HLC(millis: now) }

        mutating func op(_ body: OpBody, work: Bool) -> Op {
            counter += 1
            hlc = HLC.tick(last: hlc, nowMillis: hlc.millis)
            return Op(id: OpID(replica: replica, counter: counter), hlc: hlc, body: body, countsAsWork: work)
        }
    }

    @Test func `stores that do not know an op kind converge with the replica that made it, trash conflicts included`() throws {
        let a = try temporaryStore(name: "A"), b = try temporaryStore(name: "B"), c = try temporaryStore(name: "C")
        let id = try a.addArticle(ArticleDraft(url: "https://news.example.org/gaza/1", title: "غزة", body: "نص الخبر")).id
        let other = try a.addArticle(ArticleDraft(url: "https://news.example.org/gaza/2", title: "رفح", body: "نص آخر")).id
        for store in [b, c] { try store.merge(try a.ops()) }

        // Concurrently: B moves both articles to the trash; the newer replica, having seen them
        // but not the trash, records a reading position on the first (an op kind this version
        // does not know; its version: work on the article) and a bookmark on the second (a known
        // op kind on an entity kind this version does not know).
        try b.trash(id)
        try b.trash(other)
        var newer = NewerReplica(now: Store.systemClock())
        let future = [
            newer.op(.unknown(kind: 200, entity: .article(id), payload: [0x81, 0x01]), work: true),
            newer.op(
                .assign(
                    EntityRef(EntityRef.Kind(rawValue: 9), "bm-1", parent: other),
                    [FieldWrite("position", .int(129))]), work: true),
        ]

        // Everyone gets everything, by different routes and in different orders, twice over.
        try a.merge(future.reversed() + future)
        try b.merge(future)
        try c.applyChangesets(try a.exportChangesets(since: try c.versionVector()).bytes)
        for (from, to) in [(b, a), (b, c), (a, b), (c, b)] { try to.merge(try from.ops(since: try to.versionVector())) }

        let dumps = try [a, b, c].map { try $0.canonicalDump() }
        #expect(Set(dumps).count == 1, "the stores diverged")
        for store in [a, b, c] {
            // What the newer version computes: its reading position is work B's trash had not seen.
            let trash = try store.conflicts().trash
            #expect(Set(trash.map(\.article)) == [id, other], "\(store.path): \(trash)")
            #expect(trash.allSatisfy { $0.reason.contains(newer.replica.short) }, "the newer replica's work is named")
            #expect(try store.article(id).trashed && store.article(other).trashed)
            // Relayed byte for byte, envelope included.
            #expect(try store.ops(replica: newer.replica) == future)
            try store.rebuild()
            #expect(try store.canonicalDump() == dumps[0], "a rebuild from the op log gives the same state")
        }
        // And through a changeset file written now, the envelope is intact.
        let relayed = try Changeset.decodeAll(try c.exportChangesets(since: try a.versionVector()).bytes + (try b.exportChangesets().bytes))
        #expect(relayed.flatMap(\.ops).filter { $0.id.replica == newer.replica } == future)
    }

    @Test func `a trash made after seeing the unknown-kind work is not a conflict`() throws {
        let a = try temporaryStore(name: "A"), b = try temporaryStore(name: "B")
        let id = try a.addArticle(ArticleDraft(title: "T", body: "b")).id
        var newer = NewerReplica(now: Store.systemClock())
        let work = newer.op(.unknown(kind: 200, entity: .article(id), payload: [7]), work: true)
        try a.merge([work])
        try b.merge(try a.ops())
        try b.trash(id)  // B has seen the reading position: the trash is knowing
        try a.merge(try b.ops(since: try a.versionVector()))
        #expect(try a.conflicts().trash.isEmpty && b.conflicts().trash.isEmpty)
        #expect(try a.canonicalDump() == b.canonicalDump())
    }
}
