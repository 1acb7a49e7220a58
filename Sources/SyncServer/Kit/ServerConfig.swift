import Foundation
public import Logging
import ServerStorage
import SyncFailpoints
import SyncModel
public import SyncWire

/// Everything `syncserver serve` can be told. Sources, strongest first: command-line flags,
/// `ARTICLESYNC_*` environment variables, a config file (`--config FILE`, JSON object or
/// `key = value` lines), then these defaults. docs/OPERATIONS.md lists every key.
///
/// ```swift
/// var config = ServerConfig(dataDirectory: "/var/lib/articlesync")
/// config.rateLimitPerSecond = 5
/// let app = try await buildApplication(config)
/// ```
public struct ServerConfig: Sendable, Equatable {
    public var dataDirectory: String
    public var host = "127.0.0.1"
    public var port = 8080
    public var logLevel: Logger.Level = .info
    /// Cap on a push body as received (compressed), checked while reading it.
    public var maxBodyBytes = 32 << 20
    public var maxUncompressedBytes = ChangesetLimits.default.maxUncompressedBytes
    public var maxInflateRatio = ChangesetLimits.default.maxInflateRatio
    public var maxOpsPerChangeset = ChangesetLimits.default.maxOps
    /// A pull page stops before this many bytes of frames (it always holds at least one frame).
    public var maxPageBytes = 8 << 20
    /// Seconds a connection may stay silent before it is closed (slow clients, slowloris).
    public var idleTimeoutSeconds = 60
    public var maxConnections = 512
    /// Requests being handled at once; over it the answer is 503 `overloaded` with Retry-After.
    public var maxConcurrentRequests = 128
    /// Pushes decoded and written at once (each may hold up to maxUncompressedBytes in memory);
    /// further pushes wait their turn.
    public var maxConcurrentPushes = 4
    public var rateLimitPerSecond: Double = 20
    public var rateLimitBurst: Double = 40
    /// A push whose ops are stamped more than this many milliseconds after the server's clock
    /// is refused (422 `clock_skew`): readers refuse ops from their future, so storing them would
    /// poison every pull. 0 disables the check. The default equals the clients' own bound
    /// (10 min): whatever the server stores, a reader with a right clock accepts.
    public var maxClockSkewMillis = 600_000

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public var changesetLimits: ChangesetLimits {
        ChangesetLimits(
            maxCompressedBytes: maxBodyBytes, maxUncompressedBytes: maxUncompressedBytes,
            maxInflateRatio: maxInflateRatio, maxOps: maxOpsPerChangeset)
    }

    /// The keys a config file and the environment understand (`ARTICLESYNC_` + uppercased key).
    public static let keys = [
        "data", "host", "port", "log_level", "max_body_bytes", "max_uncompressed_bytes", "max_inflate_ratio",
        "max_ops_per_changeset", "max_page_bytes", "idle_timeout_seconds", "max_connections",
        "max_concurrent_requests", "max_concurrent_pushes", "rate_limit_per_second", "rate_limit_burst", "max_clock_skew_ms",
    ]

    /// Applies `values` (config-file or environment spelling) over `self`.
    public mutating func apply(_ values: [String: String], source: String) throws(ConfigError) {
        for (key, raw) in values {
            let value = raw.trimmingCharacters(in: .whitespaces)
            func int() throws(ConfigError) -> Int {
                guard let n = Int(value.replacingOccurrences(of: "_", with: "")), n >= 0 else {
                    throw ConfigError("\(source): \(key) must be a whole number ≥ 0, got \"\(value)\"")
                }
                return n
            }
            func double() throws(ConfigError) -> Double {
                guard let n = Double(value), n > 0 else {
                    throw ConfigError("\(source): \(key) must be a number > 0, got \"\(value)\"")
                }
                return n
            }
            switch key {
            case "data": dataDirectory = value
            case "host": host = value
            case "port":
                let n = try int()
                guard n <= 65535 else { throw ConfigError("\(source): port must be 0…65535, got \(n)") }
                port = n
            case "log_level":
                guard let level = Logger.Level(rawValue: value.lowercased()) else {
                    throw ConfigError("\(source): log_level must be one of trace, debug, info, notice, warning, error, critical")
                }
                logLevel = level
            case "max_body_bytes": maxBodyBytes = try int()
            case "max_uncompressed_bytes": maxUncompressedBytes = try int()
            case "max_inflate_ratio": maxInflateRatio = try int()
            case "max_ops_per_changeset": maxOpsPerChangeset = try int()
            case "max_page_bytes": maxPageBytes = try int()
            case "idle_timeout_seconds": idleTimeoutSeconds = try int()
            case "max_connections": maxConnections = try int()
            case "max_concurrent_requests": maxConcurrentRequests = try int()
            case "max_concurrent_pushes": maxConcurrentPushes = try int()
            case "rate_limit_per_second": rateLimitPerSecond = try double()
            case "rate_limit_burst": rateLimitBurst = try double()
            case "max_clock_skew_ms": maxClockSkewMillis = try int()
            default:
                throw ConfigError("\(source): unknown key \"\(key)\"; known keys: \(Self.keys.joined(separator: ", "))")
            }
        }
    }

    /// `ARTICLESYNC_PORT=9000` → `["port": "9000"]`; other variables are ignored.
    public static func environmentValues(_ environment: [String: String]) -> [String: String] {
        var values: [String: String] = [:]
        for key in keys {
            if let value = environment["ARTICLESYNC_" + key.uppercased()] { values[key] = value }
        }
        return values
    }

    /// Reads a config file: a JSON object (`{"port": 9000, "host": "0.0.0.0"}`) or lines of
    /// `key = value` (`#` starts a comment). Keys use the spelling of `keys`.
    public static func fileValues(path: String) throws(ConfigError) -> [String: String] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError("cannot read config file \(path): \(error.localizedDescription)")
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw ConfigError("\(path): not a valid JSON object")
            }
            var values: [String: String] = [:]
            for (key, value) in object {
                switch value {
                case let s as String: values[key] = s
                case let n as NSNumber: values[key] = n.stringValue
                default: throw ConfigError("\(path): \(key) must be a string or a number")
                }
            }
            return values
        }
        var values: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = content.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw ConfigError("\(path):\(index + 1): expected key = value, got \"\(trimmed)\"")
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            var value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            values[key] = value
        }
        return values
    }
}

public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
