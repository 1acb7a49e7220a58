import Foundation

/// Times as people and JSON read them: ISO 8601 in UTC, to the second.
public enum TimeFormat {
    /// `2024-02-01T08:00:00Z` for milliseconds since 1970.
    public static func iso(_ millis: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
