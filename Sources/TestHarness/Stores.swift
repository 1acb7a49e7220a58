import Foundation
public import SyncStore

/// A fresh store in a temporary directory.
public func temporaryStore(name: String = "test", now: (@Sendable () -> UInt64)? = nil) throws -> Store {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("articlesync-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return try Store.create(at: dir.appendingPathComponent("store.sqlite").path, name: name, now: now ?? Store.systemClock)
}

/// The seed article (`Tests/Fixtures/seed-article-ar.txt`, a copy of shared/corpus): title, lead,
/// then paragraphs, in Arabic.
public func seedArticle() throws -> String {
    try String(contentsOfFile: CLI.seedArticle, encoding: .utf8)
}
