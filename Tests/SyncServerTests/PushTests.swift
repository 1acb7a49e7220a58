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

@Suite("push")
struct PushTests {
    let replica = ReplicaID(hex: "000102030405060708090a0b0c0d0e0f")!

    @Test func `a push is stored durably and acked with replica, acked, seq and epoch`() async throws {
        let f = try await Fixture.make()
        let epoch = try await f.store.epoch()
        try await f.app().test(.router) { client async throws in
            let response = try await client.push(try frame(replica, 1...5), token: f.writer.token)
            #expect(response.status == .ok)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.header("ArticleSync-Epoch") == epoch)
            let json = response.json
            #expect(json["replica"] as? String == replica.description)
            #expect(json["acked"] as? Int == 5)
            #expect(json["seq"] as? Int == 1)
            #expect(json["epoch"] as? String == epoch)
        }
        #expect(try await f.state(replica) == (1, 5))
        let stored = try await f.storedFrames()
        #expect(stored.count == 1)
        #expect(try Changeset.decode(stored[0].bytes).ops == ops(replica, 1...5))
    }

    @Test func `the same push twice gets the same ack and is stored once`() async throws {
        let f = try await Fixture.make()
        let bytes = try frame(replica, 1...4)
        try await f.app().test(.router) { client async throws in
            let first = try await client.push(bytes, token: f.writer.token)
            let second = try await client.push(bytes, token: f.writer.token)
            #expect(first.status == .ok)
            #expect(second.status == .ok)
            #expect(first.json["acked"] as? Int == 4)
            #expect(second.json["acked"] as? Int == 4)
            #expect(second.json["seq"] as? Int == 1)
        }
        #expect(try await f.storedFrames().count == 1)
        #expect(try await f.state(replica) == (1, 4))
    }

    @Test func `an overlapping push stores only the ops the server lacked`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            #expect(try await client.push(try frame(replica, 1...5), token: f.writer.token).status == .ok)
            let overlap = try await client.push(try frame(replica, 3...8), token: f.writer.token)
            #expect(overlap.status == .ok)
            #expect(overlap.json["acked"] as? Int == 8)
            #expect(overlap.json["seq"] as? Int == 2)
        }
        let stored = try await f.storedFrames()
        #expect(stored.map(\.seq) == [1, 2])
        let second = try Changeset.decode(stored[1].bytes)
        #expect(second.firstCounter == 6)
        #expect(second.ops == ops(replica, 6...8))
        let summary = try #require(try await f.store.summary(library: Fixture.library))
        #expect(summary.ops == 8)
        #expect(summary.changesets == 2)
    }

    @Test func `an overlapping push from a wave-1 laptop is stored in format 1, so wave-1 readers can still read it`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            // PullTests.formatOneFrame: the same replica's counters 1…2, in format 1; its op 1 was
            // pushed before in format 3 (a replay must be of the same ops: equivocation otherwise).
            let first = try Changeset.decode(PullTests.formatOneFrame).ops[0]
            #expect(try await client.push(try Changeset.encode([first]), token: f.writer.token).status == .ok)
            let overlap = try await client.push(PullTests.formatOneFrame, token: f.writer.token)
            #expect(overlap.status == .ok && overlap.json["acked"] as? Int == 2)
            let old = "application/vnd.articlesync.changeset, application/json"
            let page = try await client.pull(since: "1", token: f.reader.token, accept: old)
            #expect(page.status == .ok && Array(page.body.readableBytesView) == PullTests.formatOneFrame)
        }
        let stored = try await f.storedFrames()
        #expect(stored.map(\.format) == [3, 1])
        #expect(try await f.state(replica) == (2, 2))
    }

    @Test func `a frame that starts past acked + 1 is refused as a gap that says what the server holds`() async throws {
        let f = try await Fixture.make()
        try await f.app().test(.router) { client async throws in
            #expect(try await client.push(try frame(replica, 1...3), token: f.writer.token).status == .ok)
            let response = try await client.push(try frame(replica, 5...6), token: f.writer.token)
            #expect(response.status == .conflict)
            #expect(response.errorCode == "gap")
            #expect(response.json["acked"] as? Int == 3)
            #expect((response.json["reason"] as? String)?.contains("1…3") == true)
        }
        #expect(try await f.state(replica) == (1, 3))
    }

    @Test func `counters interleave across replicas with a gap-free server sequence`() async throws {
        let f = try await Fixture.make()
        let other = ReplicaID(hex: "ffeeddccbbaa99887766554433221100")!
        try await f.app().test(.router) { client async throws in
            for i in UInt64(0)..<5 {
                #expect(try await client.push(try frame(replica, (i * 2 + 1)...(i * 2 + 2)), token: f.writer.token).status == .ok)
                let r = try await client.push(try frame(other, (i + 1)...(i + 1)), token: f.writer2.token)
                #expect(r.json["seq"] as? Int == Int(i) * 2 + 2)
            }
        }
        #expect(try await f.storedFrames().map(\.seq) == Array(1...10))
        let summary = try #require(try await f.store.summary(library: Fixture.library))
        #expect(summary.replicas == [replica.description: 10, other.description: 5])
    }
}

@Suite("concurrent pushes")
struct ConcurrentPushTests {
    @Test func `eight devices pushing at once lose and duplicate nothing, and seq stays gap-free`() async throws {
        let f = try await Fixture.make { $0.rateLimitBurst = 1000 }
        var tokens: [(String, ReplicaID)] = []
        for i in 0..<8 {
            let token = DeviceToken.generate()
            _ = try await f.store.enrollDevice(library: Fixture.library, name: "laptop \(i)", readOnly: false, tokenHash: token.hash)
            tokens.append((token.value, ReplicaID.random()))
        }
        let devices = tokens
        try await f.app().test(.router) { client async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (token, replica) in devices {
                    group.addTask {
                        for i in UInt64(0)..<10 {
                            // Every frame is sent twice: the second must be a replay.
                            let bytes = try frame(replica, (i * 4 + 1)...(i * 4 + 4))
                            let first = try await client.push(bytes, token: token)
                            let again = try await client.push(bytes, token: token)
                            #expect(first.status == .ok && again.status == .ok)
                            #expect(again.json["acked"] as? Int == Int(i * 4 + 4))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let stored = try await f.storedFrames()
        #expect(stored.map(\.seq) == Array(1...80))
        let all = try stored.flatMap { try Changeset.decode($0.bytes).ops }
        #expect(all.count == 320)
        #expect(Set(all.map(\.id)).count == 320)
        let summary = try #require(try await f.store.summary(library: Fixture.library))
        for (_, replica) in devices { #expect(summary.replicas[replica.description] == 40) }
    }
}

/// Every refusal: its status and code, the JSON shape, and the library unchanged afterwards.
@Suite("push refusals")
struct PushRefusalTests {
    let replica = ReplicaID(hex: "000102030405060708090a0b0c0d0e0f")!

    /// Pushes 1…3 first, then sends `request`, then checks status, code and that nothing moved.
    func expectRefused(
        _ status: HTTPResponse.Status, _ code: String, fixture: Fixture? = nil,
        _ request: @escaping @Sendable (any TestClientProtocol, Fixture) async throws -> TestResponse
    ) async throws {
        let f: Fixture
        if let fixture { f = fixture } else { f = try await Fixture.make() }
        let replica = self.replica
        try await f.app().test(.router) { client async throws in
            #expect(try await client.push(try frame(replica, 1...3), token: f.writer.token).status == .ok)
            let response = try await request(client, f)
            #expect(response.status == status)
            #expect(response.errorCode == code)
            #expect(response.header("Content-Type") == "application/json")
            #expect((response.json["reason"] as? String)?.isEmpty == false)
            #expect(response.header("ArticleSync-Epoch") != nil)
        }
        #expect(try await f.state(replica) == (1, 3), "library changed after a \(code) refusal")
        #expect(try await f.storedFrames().count == 1)
    }

    @Test func `no token is 401 unauthorized`() async throws {
        try await expectRefused(.unauthorized, "unauthorized") { client, _ in
            try await client.push(try frame(self.replica, 4...5), token: nil)
        }
    }

    @Test func `a malformed Authorization header is 401 unauthorized`() async throws {
        try await expectRefused(.unauthorized, "unauthorized") { client, _ in
            try await client.push(try frame(self.replica, 4...5), token: "not-a-token")
        }
    }

    @Test func `an unknown token is 401 invalid_token`() async throws {
        try await expectRefused(.unauthorized, "invalid_token") { client, _ in
            try await client.push(try frame(self.replica, 4...5), token: DeviceToken.generate().value)
        }
    }

    @Test func `a token of another library is 403 forbidden`() async throws {
        try await expectRefused(.forbidden, "forbidden") { client, f in
            try await client.push(try frame(self.replica, 4...5), token: f.outsider.token)
        }
    }

    @Test func `a read-only device pushing is 403 read_only`() async throws {
        try await expectRefused(.forbidden, "read_only") { client, f in
            try await client.push(try frame(self.replica, 4...5), token: f.reader.token)
        }
    }

    @Test func `a device pushing another replica's ops is 403 replica_mismatch`() async throws {
        try await expectRefused(.forbidden, "replica_mismatch") { client, f in
            try await client.push(try frame(ReplicaID.random(), 1...2), token: f.writer.token)
        }
    }

    @Test func `a second device claiming a bound replica is 403 replica_mismatch`() async throws {
        try await expectRefused(.forbidden, "replica_mismatch") { client, f in
            try await client.push(try frame(self.replica, 4...5), token: f.writer2.token)
        }
    }

    @Test func `a device pushing the replica of a revoked device is 403 replica_revoked and binds nothing`() async throws {
        let f = try await Fixture.make()
        try await expectRefused(.forbidden, "replica_revoked", fixture: f) { client, f in
            _ = try await f.store.revokeDevice(id: f.writer.device.id)
            let response = try await client.push(try frame(self.replica, 4...5), token: f.writer2.token)
            #expect((response.json["reason"] as? String)?.contains("--replaces \(f.writer.device.id)") == true)
            return response
        }
        let devices = try await f.store.devices()
        #expect(devices.first { $0.id == f.writer2.device.id }?.replica == nil)
        #expect(devices.first { $0.id == f.writer.device.id }?.replica == replica.description)
    }

    @Test func `a refused push binds nothing: after a 409 gap the device may still push another replica`() async throws {
        let f = try await Fixture.make()
        let other = ReplicaID.random()
        try await f.app().test(.router) { client async throws in
            #expect(try await client.push(try frame(other, 3...4), token: f.writer2.token).status == .conflict)
            #expect(try await client.push(try frame(ReplicaID.random(), 1...1), token: f.writer2.token).status == .ok)
        }
    }

    @Test func `a wrong content type is 415`() async throws {
        try await expectRefused(.unsupportedMediaType, "unsupported_media_type") { client, f in
            try await client.push(try frame(self.replica, 4...5), token: f.writer.token, contentType: "application/json")
        }
        try await expectRefused(.unsupportedMediaType, "unsupported_media_type") { client, f in
            try await client.push(try frame(self.replica, 4...5), token: f.writer.token, contentType: nil)
        }
    }

    @Test func `a body over the cap is 413 too_large`() async throws {
        try await expectRefused(.contentTooLarge, "too_large", fixture: try await Fixture.make { $0.maxBodyBytes = 4096 }) { client, f in
            let big = (UInt64(4)...2000).map { c in
                Op(
                    id: OpID(replica: self.replica, counter: c), hlc: HLC(millis: c),
                    body: .setAdd(.article(UUID().uuidString), set: "tags", element: UUID().uuidString))
            }
            let bytes = try Changeset.encode(big)
            #expect(bytes.count > 4096)
            return try await client.push(bytes, token: f.writer.token)
        }
    }

    @Test func `a decompression bomb declaring a huge payload is 413 too_large`() async throws {
        try await expectRefused(.contentTooLarge, "too_large") { client, f in
            var bytes = try frame(self.replica, 4...5)
            bytes.replaceSubrange(44..<48, with: [0xFF, 0xFF, 0xFF, 0xF0])  // declared uncompressed length ~4 GiB
            return try await client.push(bytes, token: f.writer.token)
        }
    }

    @Test func `a frame over the inflate ratio is 413 too_large`() async throws {
        try await expectRefused(.contentTooLarge, "too_large", fixture: try await Fixture.make { $0.maxInflateRatio = 20 }) { client, f in
            var bytes = try frame(self.replica, 4...5)
            bytes.replaceSubrange(44..<48, with: [0x00, 0x10, 0x00, 0x00])  // 1 MiB from a ~50-byte body
            return try await client.push(bytes, token: f.writer.token)
        }
    }

    @Test func `a frame over the ops limit is 413 too_large`() async throws {
        try await expectRefused(.contentTooLarge, "too_large", fixture: try await Fixture.make { $0.maxOpsPerChangeset = 10 }) { client, f in
            try await client.push(try frame(self.replica, 4...20), token: f.writer.token)
        }
    }

    @Test func `a truncated frame is 422 bad_changeset`() async throws {
        try await expectRefused(.unprocessableContent, "bad_changeset") { client, f in
            let bytes = try frame(self.replica, 4...9)
            return try await client.push(Array(bytes.dropLast(7)), token: f.writer.token)
        }
        try await expectRefused(.unprocessableContent, "bad_changeset") { client, f in
            try await client.push(Array(try frame(self.replica, 4...9).prefix(40)), token: f.writer.token)
        }
    }

    @Test(arguments: [8, 30, 50, 90, -1])
    func `a frame with one flipped bit is 422 bad_changeset`(offset: Int) async throws {
        try await expectRefused(.unprocessableContent, "bad_changeset") { client, f in
            var bytes = try frame(self.replica, 4...9)
            let at = offset < 0 ? bytes.count - 3 : offset
            bytes[at] ^= 0x10
            return try await client.push(bytes, token: f.writer.token)
        }
    }

    @Test(arguments: [(4, 4), (6, 2), (6, 3), (7, 1)])
    func `an unknown format version, a snapshot or an encrypted frame is 422 unsupported_version`(offset: Int, value: UInt8) async throws {
        try await expectRefused(.unprocessableContent, "unsupported_version") { client, f in
            var bytes = try frame(self.replica, 4...5)
            bytes[offset] = value
            return try await client.push(bytes, token: f.writer.token)
        }
    }

    @Test func `two frames in one push body are 422 bad_changeset`() async throws {
        try await expectRefused(.unprocessableContent, "bad_changeset") { client, f in
            try await client.push(try frame(self.replica, 4...5) + frame(self.replica, 6...7), token: f.writer.token)
        }
    }

    @Test func `an empty or non-changeset body is 422 bad_changeset`() async throws {
        try await expectRefused(.unprocessableContent, "bad_changeset") { client, f in
            try await client.push([], token: f.writer.token)
        }
        try await expectRefused(.unprocessableContent, "bad_changeset") { client, f in
            try await client.push(Array("{\"ops\": []}".utf8), token: f.writer.token)
        }
    }

    @Test func `a held counter pushed again with another body is 409 equivocation`() async throws {
        try await expectRefused(.conflict, "equivocation") { client, f in
            let forged = ops(self.replica, 2...5).map { op in
                op.id.counter == 3 ? Op(id: op.id, hlc: op.hlc, body: .setAdd(.article("a3"), set: "tags", element: "forged")) : op
            }
            let response = try await client.push(try Changeset.encode(forged), token: f.writer.token)
            #expect((response.json["reason"] as? String)?.contains("\(self.replica):3 differs") == true)
            return response
        }
    }

    @Test func `a frame whose stamps go backwards is 422 hlc_backwards`() async throws {
        try await expectRefused(.unprocessableContent, "hlc_backwards") { client, f in
            let backwards = ops(self.replica, 4...6).map { op in
                op.id.counter == 5 ? Op(id: op.id, hlc: HLC(millis: 1_718_000_000_000), body: op.body) : op
            }
            let response = try await client.push(try Changeset.encode(backwards), token: f.writer.token)
            #expect((response.json["reason"] as? String)?.contains("\(self.replica):5 is stamped") == true)
            return response
        }
    }

    @Test func `a gap is 409 with acked in the body`() async throws {
        try await expectRefused(.conflict, "gap") { client, f in
            try await client.push(try frame(self.replica, 5...6), token: f.writer.token)
        }
    }
}
