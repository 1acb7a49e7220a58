import BenchKit
import Foundation
import SyncModel
import SyncStore

// The store half of `articlesync-bench trace`: a sequential trace typed into an article of a real
// store, saved (`editArticle(body)`, what `synccli edit --body-file` does) every N patches. Each
// save diffs the body against the merged text, sends the changed runs as text ops, rewrites the
// text's state row and the body's search rows, in one transaction. Reports the saves, the text
// ops they emitted, ops/s and patches/s, and how much the store file grew.

enum TraceStoreBench {
    static func fileBytes(_ path: String) -> Int {
        [path, path + "-wal"].reduce(0) { total, p in
            total + ((try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0)
        }
    }

    static func run(_ trace: EditingTrace, every: Int) throws -> [String: Any] {
        guard !trace.isConcurrent, every > 0 else { return [:] }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("articlesync-trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("store.sqlite").path
        let store = try Store.create(at: path, name: "trace")
        let id = try store.addArticle(ArticleDraft(title: "editing trace", body: trace.startContent)).id
        let sizeBefore = fileBytes(path)
        let opsBefore = try store.ownOpCount()
        var scalars = Array(trace.startContent.unicodeScalars)
        var saves = 0
        var sinceSave = 0
        var saveTimes: [Double] = []
        let clock = ContinuousClock()
        func save() throws {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let body = String(view)
            saveTimes.append(TraceBench.millis(try clock.measure { try store.editArticle(id, [(ArticleFields.body, body)]) }))
            saves += 1
            sinceSave = 0
        }
        let total = try clock.measure {
            for transaction in trace.transactions {
                for patch in transaction.patches {
                    scalars.replaceSubrange(patch.position..<patch.position + patch.deleteCount, with: patch.insert)
                    sinceSave += 1
                    if sinceSave == every { try save() }
                }
            }
            if sinceSave > 0 { try save() }
        }
        let seconds = TraceBench.millis(total) / 1000
        let textOps = Int(try store.ownOpCount() - opsBefore)
        let matched = try store.article(id).body == trace.endContent.nfc
        return [
            "store_save_every": every,
            "store_saves": saves,
            "store_text_ops": textOps,
            "store_seconds": seconds,
            "store_ops_per_s": Double(textOps) / seconds,
            "store_patches_per_s": Double(trace.patchCount) / seconds,
            "store_save_ms_median": TraceBench.median(saveTimes),
            "store_bytes_growth": fileBytes(path) - sizeBefore,
            "store_matched_end_content": matched,
        ]
    }
}
