import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServerStorage
import SyncModel
import SyncWire
import Testing

@testable import ServerStoreSQLite
@testable import SyncServerCommands
@testable import SyncServerKit

/// Regression tests for the fault suite's findings (scripts/faults, RELIABILITY.md): a laptop
/// with a clock far ahead must not poison every other laptop's pulls, and a full disk is a clean
/// 507, never a 500.
@Suite("clock skew and storage refusals")
struct ClockSkewTests {
    let replica = ReplicaID(hex: "000102030405060708090a0b0c0d0e0f")!

    func stamped(_ millis: UInt64, _ counters: ClosedRange<UInt64>) throws -> [UInt8] {
        try Changeset.encode(
            counters.map { c in
                Op(
                    id: OpID(replica: replica, counter: c), hlc: HLC(millis: millis, counter: UInt16(c)),
                    body: .setAdd(.article("a1"), set: "tags", element: "t\(c)"))
            })
    }

    var now: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    @Test(arguments: [3_600_000, 86_400_000, 365 * 86_400_000] as [UInt64])
    func `a push stamped far ahead of the server's clock is 422 clock_skew and stores nothing`(ahead: UInt64) async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let response = try await client.push(try stamped(now + ahead, 1...3), token: f.writer.token)
            #expect(response.status == .unprocessableContent)
            #expect(response.errorCode == "clock_skew")
            let reason = try #require(response.json["reason"] as? String)
            #expect(reason.contains("ahead of the server's clock"))
            #expect(reason.contains("Nothing was stored"))
            // Another laptop with a good clock is unaffected, and its pull never sees the bad ops.
            let good = try await client.push(try frame(replica, 1...2), token: f.writer.token)
            #expect(good.status == .ok)
        }
        #expect(try await f.state(replica) == (1, 2))
    }

    @Test func `a push a little ahead (within the bound) is stored`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let response = try await client.push(try stamped(now + 60_000, 1...2), token: f.writer.token)
            #expect(response.status == .ok)
        }
    }

    @Test func `max_clock_skew_ms configures the bound and 0 disables it`() async throws {
        var config = ServerConfig(dataDirectory: "/tmp/x")
        try config.apply(["max_clock_skew_ms": "0"], source: "test")
        #expect(config.maxClockSkewMillis == 0)
        let f = try await Fixture.make { $0.maxClockSkewMillis = 0 }
        try await f.app().test(.router) { client async throws in
            let response = try await client.push(try stamped(now + 86_400_000, 1...2), token: f.writer.token)
            #expect(response.status == .ok)
        }
    }

    @Test func `the pure validation refuses the first future op with its id`() throws {
        let ops = (1...3).map { c in
            Op(
                id: OpID(replica: replica, counter: UInt64(c)), hlc: HLC(millis: c == 3 ? 10_000_000 : 1000),
                body: .setAdd(.article("a1"), set: "tags", element: "t"))
        }
        let refusal = try #require(PushValidation.clockSkew(ops, nowMillis: 1000, maxClockSkewMillis: 60_000))
        #expect(refusal.code == "clock_skew")
        #expect(refusal.reason.contains(":3 is stamped"))
        #expect(PushValidation.clockSkew(ops, nowMillis: 10_000_000, maxClockSkewMillis: 60_000) == nil)
        #expect(PushValidation.clockSkew(ops, nowMillis: .max - 5, maxClockSkewMillis: 60_000) == nil)
    }

    @Test func `the pure validation refuses the first op stamped before the one before it, and allows equal stamps`() throws {
        let stamps: [UInt64] = [1000, 1000, 2000, 1500, 900]
        let ops = stamps.enumerated().map { i, millis in
            Op(
                id: OpID(replica: replica, counter: UInt64(i + 1)), hlc: HLC(millis: millis),
                body: .setAdd(.article("a1"), set: "tags", element: "t"))
        }
        let refusal = try #require(PushValidation.clockOrder(ops))
        #expect(refusal.code == "hlc_backwards" && refusal.reason.contains(":4 is stamped"))
        #expect(PushValidation.clockOrder(Array(ops.prefix(3))) == nil)
        #expect(PushValidation.clockOrder([]) == nil)
    }

    @Test func `a full disk is 507 insufficient_storage, not 500, and stores nothing`() async throws {
        let f = try await Fixture.make()
        try await f.store.fillDisk()
        try await f.app().test(.router) { client async throws in
            let response = try await client.push(try frame(replica, 1...20_000), token: f.writer.token)  // needs new pages
            #expect(response.status.code == 507)
            #expect(response.errorCode == "insufficient_storage")
        }
        #expect(try await f.state(replica) == (0, 0))
    }
}
