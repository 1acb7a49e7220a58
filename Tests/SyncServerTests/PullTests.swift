import Foundation
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

@Suite("pull")
struct PullTests {
    let a = ReplicaID(hex: "000102030405060708090a0b0c0d0e0f")!
    let b = ReplicaID(hex: "ffeeddccbbaa99887766554433221100")!

    @Test func `pages follow limit with Next and More headers and frames in gap-free seq order`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            for i in UInt64(1)...13 {
                #expect(try await client.push(try frame(a, (i * 3 - 2)...(i * 3)), token: f.writer.token).status == .ok)
                #expect(try await client.push(try frame(b, i...i), token: f.writer2.token).status == .ok)
            }
            var cursor = "0"
            var pages: [[Changeset]] = []
            var more = "true"
            while more == "true" {
                let page = try await client.pull(since: cursor, limit: "10", token: f.reader.token)
                #expect(page.status == .ok)
                #expect(page.header("Content-Type") == PushRoute.mediaType)
                #expect(page.header("ArticleSync-Head") == "26")
                #expect(page.header("ArticleSync-Epoch") != nil)
                pages.append(try Changeset.decodeAll(Array(page.body.readableBytesView)))
                cursor = try #require(page.header("ArticleSync-Next"))
                more = try #require(page.header("ArticleSync-More"))
            }
            #expect(pages.map(\.count) == [10, 10, 6])
            #expect(cursor == "26")
            let frames = pages.flatMap { $0 }
            // Pushes alternated a, b, a, b …: seq order is push order.
            #expect(frames.map(\.replica) == (0..<26).map { $0 % 2 == 0 ? a : b })
            #expect(frames.filter { $0.replica == a }.flatMap(\.ops) == ops(a, 1...39))
            #expect(frames.filter { $0.replica == b }.flatMap(\.ops) == ops(b, 1...13))

            let nothing = try await client.pull(since: cursor, token: f.reader.token)
            #expect(nothing.status == .noContent)
            #expect(nothing.body.readableBytes == 0)
        }
    }

    @Test func `nothing newer is a 204 with Next equal to since`() async throws {
        let f = try await Fixture.make()
        let epoch = try await f.store.epoch()
        try await f.app().test(.router) { client async throws in
            let empty = try await client.pull(since: "0", token: f.writer.token)
            #expect(empty.status == .noContent)
            #expect(empty.header("ArticleSync-Next") == "0")
            #expect(empty.header("ArticleSync-More") == "false")
            #expect(empty.header("ArticleSync-Head") == "0")
            #expect(empty.header("ArticleSync-Epoch") == epoch)

            #expect(try await client.push(try frame(a, 1...2), token: f.writer.token).status == .ok)
            let upToDate = try await client.pull(since: "1", token: f.writer.token)
            #expect(upToDate.status == .noContent)
            #expect(upToDate.header("ArticleSync-Next") == "1")
            #expect(upToDate.header("ArticleSync-Head") == "1")
            #expect(upToDate.body.readableBytes == 0)
        }
    }

    @Test func `exclude leaves out the puller's own frames and Next still covers them`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            // seq 1 a, 2 b, 3 a, 4 a: b's pull without a's frames.
            _ = try await client.push(try frame(a, 1...2), token: f.writer.token)
            _ = try await client.push(try frame(b, 1...1), token: f.writer2.token)
            _ = try await client.push(try frame(a, 3...3), token: f.writer.token)
            _ = try await client.push(try frame(a, 4...6), token: f.writer.token)
            let forA = try await client.pull(since: "0", exclude: a.description, token: f.writer.token)
            #expect(forA.status == .ok)
            #expect(try Changeset.decodeAll(Array(forA.body.readableBytesView)).map(\.replica) == [b])
            #expect(forA.header("ArticleSync-Next") == "4")
            #expect(forA.header("ArticleSync-More") == "false")
            // A page of one frame stops after it; the rest are a's own: a 204 that moves the cursor.
            let first = try await client.pull(since: "0", limit: "1", exclude: a.description, token: f.writer.token)
            #expect(first.header("ArticleSync-Next") == "2")
            #expect(first.header("ArticleSync-More") == "true")
            let rest = try await client.pull(since: "2", exclude: a.description, token: f.writer.token)
            #expect(rest.status == .noContent)
            #expect(rest.header("ArticleSync-Next") == "4")
            #expect(rest.header("ArticleSync-More") == "false")
            // Everyone else still gets everything, and an uppercase id is the same replica.
            let all = try await client.pull(since: "0", exclude: b.description.uppercased(), token: f.reader.token)
            #expect(try Changeset.decodeAll(Array(all.body.readableBytesView)).map(\.replica) == [a, a, a])
        }
    }

    @Test(arguments: ["", "xyz", "000102030405060708090a0b0c0d0e", "000102030405060708090a0b0c0d0e0f00"])
    func `an exclude that is not a replica id is 400 bad_request`(exclude: String) async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let response = try await client.pull(since: "0", exclude: exclude, token: f.writer.token)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "bad_request")
        }
    }

    @Test func `a page stops at the byte cap but always carries one frame`() async throws {
        let f = try await Fixture.make { $0.maxPageBytes = 1 }
        try await f.app().test(.router) { client async throws in
            for i in UInt64(1)...3 { _ = try await client.push(try frame(a, i...i), token: f.writer.token) }
            let page = try await client.pull(since: "0", limit: "1000", token: f.writer.token)
            #expect(page.status == .ok)
            #expect(try Changeset.decodeAll(Array(page.body.readableBytesView)).count == 1)
            #expect(page.header("ArticleSync-Next") == "1")
            #expect(page.header("ArticleSync-More") == "true")
        }
    }

    @Test(arguments: ["abc", "-1", "1.5", "", "+3", "0x10", "99999999999999999999", "1%202"])
    func `a malformed cursor is 400 bad_cursor`(cursor: String) async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let response = try await client.pull(since: cursor, token: f.writer.token)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "bad_cursor")
        }
    }

    @Test(arguments: ["0", "1001", "x", "-5", ""])
    func `a bad limit is 400 bad_limit`(limit: String) async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let response = try await client.pull(since: "0", limit: limit, token: f.writer.token)
            #expect(response.status == .badRequest)
            #expect(response.errorCode == "bad_limit")
        }
    }

    @Test func `a cursor ahead of the head is 409 cursor_ahead (server restored from an older backup)`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            _ = try await client.push(try frame(a, 1...2), token: f.writer.token)
            let response = try await client.pull(since: "7", token: f.writer.token)
            #expect(response.status == .conflict)
            #expect(response.errorCode == "cursor_ahead")
            #expect(response.json["head"] as? Int == 1)
            #expect(response.header("ArticleSync-Epoch") != nil)
        }
    }

    @Test func `pulling needs a token of that library`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            #expect(try await client.pull(since: "0", token: nil).errorCode == "unauthorized")
            #expect(try await client.pull(since: "0", token: f.outsider.token).errorCode == "forbidden")
            #expect(try await client.pull(since: "0", token: f.outsider.token).status == .forbidden)
            #expect(try await client.pull(since: "0", token: f.outsider.token, library: "archive").status == .noContent)
        }
    }

    @Test func `the library summary lists head, counts and acked per replica`() async throws {
        let f = try await Fixture.make()
        let epoch = try await f.store.epoch()
        try await f.app().test(.router) { client async throws in
            _ = try await client.push(try frame(a, 1...4), token: f.writer.token)
            _ = try await client.push(try frame(b, 1...2), token: f.writer2.token)
            let response = try await client.get("/v1/libraries/newsroom", token: f.reader.token)
            #expect(response.status == .ok)
            let json = response.json
            #expect(json["library"] as? String == "newsroom")
            #expect(json["epoch"] as? String == epoch)
            #expect(json["head"] as? Int == 2)
            #expect(json["changesets"] as? Int == 2)
            #expect(json["ops"] as? Int == 6)
            #expect(json["replicas"] as? [String: Int] == [a.description: 4, b.description: 2])
            #expect(try await client.get("/v1/libraries/archive", token: f.reader.token).errorCode == "forbidden")
        }
    }

    /// Protocol.md's wave-1 worked example (format 1) of replica 000102…0f, counters 1…2.
    static let formatOneFrame: [UInt8] = {
        let hex = """
            415343530100000102030405060708090a0b0c0d0e0f000000000000000100000000000000020000000200000032e3f9\
            10db9715d6068fc847e475bee45eca85838b5b610ee570b521550be245de00000036789c639cc0707c0e0308308a3032\
            251a32b2966496e4a4b2b0ddd87563d38d950c4c0c4c7c20719692c4f46296bcd4f2620037a50d89
            """
        let digits = Array(hex)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }()

    @Test func `a format-1 frame from a wave-1 laptop is stored and served as it was received`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            let pushed = try await client.push(Self.formatOneFrame, token: f.writer.token)
            #expect(pushed.status == .ok && pushed.json["acked"] as? Int == 2)
            // …to a wave-1 client (its Accept names no version) and to this version's alike.
            for accept in ["application/vnd.articlesync.changeset, application/json", SyncAPI.accept] {
                let page = try await client.pull(since: "0", token: f.reader.token, accept: accept)
                #expect(page.status == .ok)
                #expect(Array(page.body.readableBytesView) == Self.formatOneFrame)
            }
        }
        #expect(try await f.storedFrames().map(\.format) == [1])
    }

    @Test func `a wave-1 client gets what it can read, then is told to upgrade`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            _ = try await client.push(Self.formatOneFrame, token: f.writer.token)
            _ = try await client.push(try frame(b, 1...2), token: f.writer2.token)
            let old = "application/vnd.articlesync.changeset, application/json"
            // The page stops before the frame it cannot read, and says more is there.
            let first = try await client.pull(since: "0", token: f.reader.token, accept: old)
            #expect(first.status == .ok && Array(first.body.readableBytesView) == Self.formatOneFrame)
            #expect(first.header("ArticleSync-Next") == "1" && first.header("ArticleSync-More") == "true")
            // The next page starts with it: upgrade, and nothing is skipped.
            let refused = try await client.pull(since: "1", token: f.reader.token, accept: old)
            #expect(refused.status.code == 406 && refused.errorCode == "client_too_old")
            #expect((refused.json["reason"] as? String)?.contains("upgrade synccli") == true, "\(refused.json)")
            let current = try await client.pull(since: "0", token: f.reader.token)
            #expect(current.status == .ok && current.header("ArticleSync-Next") == "2" && current.header("ArticleSync-More") == "false")
        }
    }

    /// A laptop on the previous release reads format 2 only: it gets a format-3 frame re-encoded,
    /// the same ops; its own format-2 push is stored as it came, and an overlap is trimmed in
    /// format 2, so what it pulls back it can read.
    @Test func `a laptop of the previous release gets format-3 frames re-encoded in format 2`() async throws {
        let f = try await Fixture.make()
        let previous = "application/vnd.articlesync.changeset; version=2, application/json"
        try await f.app().test(.router) { client async throws in
            let three = try frame(a, 1...3)
            #expect(three[4] == 3)
            #expect(try await client.push(three, token: f.writer.token).status == .ok)
            let two = try Changeset.encode(ops(b, 1...2), format: 2)
            #expect(try await client.push(two, token: f.writer2.token).status == .ok)
            let overlap = try Changeset.encode(ops(b, 1...4), format: 2)
            #expect(try await client.push(overlap, token: f.writer2.token).status == .ok)

            let old = try await client.pull(since: "0", token: f.reader.token, accept: previous)
            #expect(old.status == .ok && old.header("ArticleSync-More") == "false")
            let frames = try Changeset.decodeAll(Array(old.body.readableBytesView))
            #expect(frames.map(\.format) == [2, 2, 2])
            #expect(frames.flatMap(\.ops) == ops(a, 1...3) + ops(b, 1...4))
            // This version reads each frame as it was stored.
            let current = try await client.pull(since: "0", token: f.reader.token)
            let stored = try Changeset.decodeAll(Array(current.body.readableBytesView))
            #expect(stored.map(\.format) == [3, 2, 2] && stored.flatMap(\.ops) == frames.flatMap(\.ops))
        }
        #expect(try await f.storedFrames().map(\.format) == [3, 2, 2])
    }
}
