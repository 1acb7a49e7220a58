import Foundation
import SyncModel
import SyncStore
import TestHarness
import Testing

@testable import SyncClientKit

/// A server restored from a backup reuses sequence numbers the laptops have already read. The
/// new epoch, the reset cursor and the ack the server really holds must change together, on every
/// path that learns of the epoch, or a laptop silently skips the frames stored after the restore.
@Suite struct EpochRestoreTests {
    @Test func `a laptop whose first contact with a restored server is a push still pulls every frame stored after the restore`() async throws {
        let server = try await LiveServer()
        let (tokenM, tokenL, tokenK) = (try await server.enroll("M"), try await server.enroll("L"), try await server.enroll("K"))
        let (m, l, k) = (try temporaryStore(name: "M"), try temporaryStore(name: "L"), try temporaryStore(name: "K"))
        for (store, token) in [(m, tokenM), (l, tokenL), (k, tokenK)] {
            try store.setRemote(Remote(url: "http://127.0.0.1:9", library: LiveServer.library), token: token)
        }
        let backup = try await server.serve { port in
            let transport = ScriptedTransport(port: port)
            try m.addArticle(ArticleDraft(title: "m1", body: "first"))
            _ = try await client(for: m, transport: transport).push()  // seq 1
            let backup = try server.backup()  // holds seq 1 only
            try m.addArticle(ArticleDraft(title: "m2", body: "second"))
            try m.addArticle(ArticleDraft(title: "m3", body: "third"))
            _ = try await client(for: m, transport: transport, opsPerChangeset: 1).push()  // seq 2, 3
            _ = try await client(for: l, transport: transport).pull()  // L's cursor: 3
            return backup
        }
        #expect(try l.syncState().cursor == 3)
        let restored = try await LiveServer.restored(from: backup)
        try await restored.serve { port in
            let transport = ScriptedTransport(port: port)
            try k.addArticle(ArticleDraft(title: "k1", body: "after the restore"))
            try k.addArticle(ArticleDraft(title: "k2", body: "after the restore, again"))
            _ = try await client(for: k, transport: transport, opsPerChangeset: 1).push()  // seq 2, 3 again
            // L's first contact with the restored server is a push …
            try l.addArticle(ArticleDraft(title: "l1", body: "from L"))
            _ = try await client(for: l, transport: transport).push()
            // … and its next pull must still bring K's frames, stored under the reused seq 2 and 3.
            _ = try await client(for: l, transport: transport).pull()
        }
        let titles = Set(try l.listArticles().map(\.title))
        #expect(titles.isSuperset(of: ["k1", "k2"]), "L skipped the frames stored after the restore: it holds \(titles.sorted())")
        #expect(try l.versionVector()[k.replica] == 2)
    }
}
