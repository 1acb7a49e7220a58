import Foundation
import ServerStorage
import SyncModel
import SyncServerKit
import SyncWire
import Testing

/// What any server storage backend must do, whatever database is behind it: the library's
/// sequence stays gap-free and in commit order under concurrent pushers, a push is stored exactly
/// once and a replay writes nothing, a refused push writes nothing (not even a binding), pages
/// respect their bounds, epochs and revocations are read fresh, and a full disk is reported as
/// such with nothing stored. Every test runs on every backend in ``Backends/all``.
@Suite("server storage conformance")
struct ServerStoreConformanceTests {
    static let library = "newsroom"

    /// A store with the library and `devices` read-write devices (and one read-only).
    struct World {
        let store: any ServerStore
        let devices: [Device]
        let reader: Device

        init(_ store: any ServerStore, devices count: Int = 2) async throws {
            self.store = store
            try await store.createLibrary(ServerStoreConformanceTests.library)
            var devices: [Device] = []
            for i in 0..<count {
                devices.append(
                    try await store.enrollDevice(
                        library: library, name: "laptop \(i)", readOnly: false,
                        tokenHash: randomHex(32)))
            }
            self.devices = devices
            reader = try await store.enrollDevice(library: library, name: "editor", readOnly: true, tokenHash: randomHex(32))
        }

        /// Pushes counters `range` of `replica` as `device`, through the real push policy.
        func push(_ replica: ReplicaID, _ range: ClosedRange<UInt64>, as device: Device) async throws -> PushResult {
            try await push(try frame(replica, range), as: device)
        }

        func push(_ bytes: [UInt8], as device: Device) async throws -> PushResult {
            let request = PushRequest(library: library, deviceID: device.id, changeset: try Changeset.decode(bytes), frame: bytes)
            return try await store.push(request) { state in PushPolicy.decide(request, state) }
        }

        func everything() async throws -> ChangesPage {
            try await store.changes(library: library, since: 0, limit: 100_000, maxBytes: .max, excluding: nil)
        }
    }

    static func frame(
        _ replica: ReplicaID, _ range: ClosedRange<UInt64>, tag: (UInt64) -> String = { "tag-\($0)" },
        millis: (UInt64) -> UInt64 = { 1_718_000_000_000 + $0 }
    ) throws -> [UInt8] {
        try Changeset.encode(
            range.map { c in
                Op(
                    id: OpID(replica: replica, counter: c), hlc: HLC(millis: millis(c)),
                    body: .setAdd(.article("a\(c % 5)"), set: "tags", element: tag(c)))
            })
    }

    @Test(arguments: Backends.all)
    func `a push is stored once; the same push again is a replay that writes nothing`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            let epoch = try await store.epoch()
            #expect(try await world.push(replica, 1...3, as: world.devices[0]) == .stored(acked: 3, seq: 1, epoch: epoch, opsStored: 3))
            #expect(try await world.push(replica, 1...3, as: world.devices[0]) == .replay(acked: 3, head: 1, epoch: epoch))
            #expect(try await world.push(replica, 2...3, as: world.devices[0]) == .replay(acked: 3, head: 1, epoch: epoch))
            let page = try await world.everything()
            #expect(page.frames.map(\.seq) == [1])
            let summary = try #require(try await store.summary(library: Self.library))
            #expect(summary.head == 1 && summary.changesets == 1 && summary.ops == 3 && summary.replicas == [replica.description: 3])
        }
    }

    @Test(arguments: Backends.all)
    func `an overlapping push stores only the ops the library lacks`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            _ = try await world.push(replica, 1...3, as: world.devices[0])
            let result = try await world.push(replica, 2...6, as: world.devices[0])
            #expect(result == .stored(acked: 6, seq: 2, epoch: try await store.epoch(), opsStored: 3))
            let frames = try await world.everything().frames
            let second = try Changeset.decode(frames[1].bytes)
            #expect(second.firstCounter == 4 && second.lastCounter == 6)
            #expect(try await store.summary(library: Self.library)?.ops == 6)
        }
    }

    @Test(arguments: Backends.all)
    func `other ops under held ids are refused as equivocation and nothing of the push is stored`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            let device = world.devices[0]
            _ = try await world.push(replica, 1...2, as: device)
            _ = try await world.push(replica, 3...4, as: device)
            let otherTag = try Self.frame(replica, 1...4) { $0 == 4 ? "forged" : "tag-\($0)" }
            #expect(try await world.push(otherTag, as: device) == .refused(.equivocation(counter: 4)))
            let otherStamp = try Self.frame(replica, 2...3, millis: { 1_718_000_000_000 + $0 + ($0 == 2 ? 1 : 0) })
            #expect(try await world.push(otherStamp, as: device) == .refused(.equivocation(counter: 2)))
            // An overlap that changes a held op stores none of its new ops either.
            let overlap = try Self.frame(replica, 3...6) { $0 == 3 ? "forged" : "tag-\($0)" }
            #expect(try await world.push(overlap, as: device) == .refused(.equivocation(counter: 3)))
            let summary = try #require(try await store.summary(library: Self.library))
            #expect(summary.head == 2 && summary.ops == 4 && summary.replicas == [replica.description: 4])
            // The same ops again are still a replay, and a faithful overlap is stored.
            let epoch = try await store.epoch()
            #expect(try await world.push(replica, 1...4, as: device) == .replay(acked: 4, head: 2, epoch: epoch))
            #expect(try await world.push(replica, 2...6, as: device) == .stored(acked: 6, seq: 3, epoch: epoch, opsStored: 2))
        }
    }

    @Test(arguments: Backends.all)
    func `a refused push writes nothing, not even the replica binding`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            #expect(try await world.push(replica, 3...4, as: world.devices[0]) == .refused(.gap(acked: 0)))
            #expect(try await world.push(replica, 1...2, as: world.reader) == .refused(.readOnly))
            #expect(try await store.devices().allSatisfy { $0.replica == nil })
            #expect(try await store.summary(library: Self.library)?.head == 0)
            #expect(try await world.everything().frames.isEmpty)
        }
    }

    @Test(arguments: Backends.all)
    func `a device binds to the replica of its first stored push and may push only that one`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let (mine, other) = (ReplicaID.random(), ReplicaID.random())
            _ = try await world.push(mine, 1...1, as: world.devices[0])
            #expect(try await store.devices().first { $0.id == world.devices[0].id }?.replica == mine.description)
            guard case .refused(.replicaMismatch) = try await world.push(other, 1...1, as: world.devices[0]) else {
                Issue.record("a bound device pushed another replica"); return
            }
            guard case .refused(.replicaMismatch) = try await world.push(mine, 2...2, as: world.devices[1]) else {
                Issue.record("a second device took a bound replica"); return
            }
            #expect(try await store.summary(library: Self.library)?.head == 1)
        }
    }

    @Test(arguments: Backends.all)
    func `a revoked device's replica stays bound to it: no other device can push it`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            _ = try await world.push(replica, 1...2, as: world.devices[0])
            #expect(try await store.revokeDevice(id: world.devices[0].id))
            let owner = world.devices[0].id
            #expect(try await world.push(replica, 3...4, as: world.devices[1]) == .refused(.replicaRevoked(owner: owner)))
            #expect(try await world.push(replica, 1...2, as: world.devices[1]) == .refused(.replicaRevoked(owner: owner)))
            let devices = try await store.devices()
            #expect(devices.first { $0.id == owner }?.replica == replica.description)
            #expect(devices.first { $0.id == world.devices[1].id }?.replica == nil)
            let summary = try #require(try await store.summary(library: Self.library))
            #expect(summary.head == 1 && summary.replicas == [replica.description: 2])
        }
    }

    @Test(arguments: Backends.all)
    func `a device enrolled as another's replacement revokes it and takes its replica over`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            _ = try await world.push(replica, 1...2, as: world.devices[0])
            let old = world.devices[0].id
            let new = try await store.enrollDevice(
                library: Self.library, name: "laptop again", readOnly: false, tokenHash: randomHex(32), replacing: old)
            #expect(new.replica == replica.description && !new.isRevoked)
            let devices = try await store.devices()
            #expect(devices.first { $0.id == old }.map { $0.isRevoked && $0.replica == nil } == true)
            #expect(try await world.push(replica, 3...4, as: new) == .stored(acked: 4, seq: 2, epoch: try await store.epoch(), opsStored: 2))
            // Only the named device of the same library can be replaced.
            try await store.createLibrary("archive")
            for (library, id) in [("archive", world.devices[1].id), (Self.library, "dev_nobody")] {
                await #expect {
                    try await store.enrollDevice(library: library, name: "x", readOnly: false, tokenHash: randomHex(32), replacing: id)
                } throws: { ($0 as? ServerStoreError)?.code == .notFound }
            }
            #expect(try await store.devices().count == devices.count)
        }
    }

    @Test(arguments: Backends.all)
    func `concurrent pushers get a gap-free sequence and lose or duplicate nothing`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store, devices: 8)
            let replicas = (0..<8).map { _ in ReplicaID.random() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (device, replica) in zip(world.devices, replicas) {
                    group.addTask {
                        for batch in 0..<10 {
                            let first = UInt64(batch * 5 + 1)
                            guard case .stored = try await world.push(replica, first...first + 4, as: device) else {
                                throw ServerStoreError(.failed, "push \(batch) of \(replica.short) was not stored")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let page = try await world.everything()
            #expect(page.frames.map(\.seq) == Array(1...80))
            var ids = Set<OpID>()
            for frame in page.frames { for op in try Changeset.decode(frame.bytes).ops { #expect(ids.insert(op.id).inserted) } }
            #expect(ids.count == 400)
            let summary = try #require(try await store.summary(library: Self.library))
            #expect(summary.head == 80 && summary.ops == 400)
            #expect(Set(summary.replicas.values) == [50])
        }
    }

    @Test(arguments: Backends.all)
    func `pages follow the cursor, stop at the frame or byte limit, and always carry a frame`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            for c in stride(from: UInt64(1), through: 10, by: 1) { _ = try await world.push(replica, c...c, as: world.devices[0]) }
            let firstTwo = try await store.changes(library: Self.library, since: 0, limit: 2, maxBytes: .max, excluding: nil)
            #expect(firstTwo.frames.map(\.seq) == [1, 2] && firstTwo.head == 10 && firstTwo.next == 2)
            let after = try await store.changes(library: Self.library, since: 7, limit: 100, maxBytes: .max, excluding: nil)
            #expect(after.frames.map(\.seq) == [8, 9, 10])
            let tiny = try await store.changes(library: Self.library, since: 3, limit: 100, maxBytes: 1, excluding: nil)
            #expect(tiny.frames.map(\.seq) == [4])
            let size = tiny.frames[0].bytes.count
            let twoBySize = try await store.changes(library: Self.library, since: 3, limit: 100, maxBytes: 2 * size + 1, excluding: nil)
            #expect(twoBySize.frames.count == 2)
            let end = try await store.changes(library: Self.library, since: 10, limit: 100, maxBytes: .max, excluding: nil)
            #expect(end.frames.isEmpty && end.head == 10)
            #expect(try Changeset.decode(after.frames[0].bytes).firstCounter == 8)
            #expect(after.frames.allSatisfy { $0.format == Changeset.formatMajor })
        }
    }

    @Test(arguments: Backends.all)
    func `a page can leave out one replica's frames; its next covers them up to the head`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let (mine, theirs) = (ReplicaID.random(), ReplicaID.random())
            // seq 1 theirs, 2–4 mine, 5 theirs, 6 mine
            _ = try await world.push(theirs, 1...1, as: world.devices[1])
            for c in UInt64(1)...3 { _ = try await world.push(mine, c...c, as: world.devices[0]) }
            _ = try await world.push(theirs, 2...2, as: world.devices[1])
            _ = try await world.push(mine, 4...4, as: world.devices[0])
            let page = try await store.changes(library: Self.library, since: 0, limit: 100, maxBytes: .max, excluding: mine.description)
            #expect(page.frames.map(\.seq) == [1, 5] && page.next == 6 && page.head == 6)
            let one = try await store.changes(library: Self.library, since: 0, limit: 1, maxBytes: .max, excluding: mine.description)
            #expect(one.frames.map(\.seq) == [1] && one.next == 1)
            let onlyMine = try await store.changes(library: Self.library, since: 5, limit: 100, maxBytes: .max, excluding: mine.description)
            #expect(onlyMine.frames.isEmpty && onlyMine.next == 6)
            let tiny = try await store.changes(library: Self.library, since: 0, limit: 100, maxBytes: 1, excluding: mine.description)
            #expect(tiny.frames.map(\.seq) == [1] && tiny.next == 1)
            let everything = try await store.changes(library: Self.library, since: 0, limit: 100, maxBytes: .max, excluding: nil)
            #expect(everything.frames.map(\.seq) == [1, 2, 3, 4, 5, 6] && everything.next == 6)
        }
    }

    @Test(arguments: Backends.all)
    func `the epoch is read fresh and changes only when rotated`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            _ = try await World(store)
            let epoch = try await store.epoch()
            #expect(epoch.count == 32)
            #expect(try await store.lookup(tokenHash: nil).epoch == epoch)
            let rotated = try await store.rotateEpoch()
            #expect(rotated != epoch)
            #expect(try await store.epoch() == rotated)
            #expect(try await store.changes(library: Self.library, since: 0, limit: 1, maxBytes: 1, excluding: nil).epoch == rotated)
        }
    }

    @Test(arguments: Backends.all)
    func `a revoked token is seen as revoked at once and cannot push`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let tokenHash = randomHex(32)
            try await store.createLibrary(Self.library)
            let device = try await store.enrollDevice(library: Self.library, name: "laptop", readOnly: false, tokenHash: tokenHash)
            #expect(try await store.lookup(tokenHash: tokenHash).device == device)
            #expect(try await store.lookup(tokenHash: randomHex(32)).device == nil)
            #expect(try await store.revokeDevice(id: device.id))
            #expect(try await !store.revokeDevice(id: device.id))
            #expect(try await store.lookup(tokenHash: tokenHash).device?.isRevoked == true)
            let bytes = try Self.frame(ReplicaID.random(), 1...1)
            let request = PushRequest(library: Self.library, deviceID: device.id, changeset: try Changeset.decode(bytes), frame: bytes)
            #expect(try await store.push(request) { PushPolicy.decide(request, $0) } == .refused(.deviceGone))
        }
    }

    @Test(arguments: Backends.all)
    func `libraries and devices are created once and refused clearly otherwise`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            try await store.createLibrary(Self.library)
            await #expect { try await store.createLibrary(Self.library) } throws: { ($0 as? ServerStoreError)?.code == .alreadyExists }
            await #expect {
                try await store.enrollDevice(library: "nowhere", name: "x", readOnly: false, tokenHash: randomHex(32))
            } throws: { ($0 as? ServerStoreError)?.code == .notFound }
            #expect(try await store.libraries() == [Self.library])
            #expect(try await store.summary(library: "nowhere") == nil)
        }
    }

    @Test(arguments: Backends.all)
    func `a full disk is reported as storageFull and nothing is stored`(backend: any BackendUnderTest) async throws {
        try await backend.withFreshStore { store in
            let world = try await World(store)
            let replica = ReplicaID.random()
            _ = try await world.push(replica, 1...2, as: world.devices[0])
            try await backend.fillDisk(store)
            await #expect { try await world.push(replica, 3...20_000, as: world.devices[0]) } throws: {
                ($0 as? ServerStoreError)?.code == .storageFull
            }
            let summary = try #require(try await store.summary(library: Self.library))
            #expect(summary.head == 1 && summary.replicas[replica.description] == 2)
        }
    }
}
