import Foundation
public import Logging

/// Every log line a logger wrote, with its metadata: for tests that check what is logged (and
/// what never is, like a token), or what an agent decided.
///
/// ```swift
/// let logs = CapturedLogs()
/// let logger = Logger(label: "test") { _ in CapturingLogHandler(sink: logs) }
/// logs.lines.contains { $0.contains("error=invalid_token") }
/// ```
public final class CapturedLogs: @unchecked Sendable {
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]
    }

    private let lock = NSLock()
    private var entries: [Entry] = []

    public init() {}

    func append(_ entry: Entry) { lock.withLock { entries.append(entry) } }

    public var all: [Entry] { lock.withLock { entries } }

    /// `level message key=value …` (keys sorted), one per entry.
    public var lines: [String] {
        all.map { e in "\(e.level) \(e.message) " + e.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
    }
}

public struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(sink: CapturedLogs) { self.sink = sink }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.append(CapturedLogs.Entry(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
    }
}
