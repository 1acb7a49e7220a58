import Foundation

/// Where this store syncs: the server URL and library, with the device token kept in a separate
/// file readable only by its owner (`<store>.token`, mode 0600) so it never sits in the store
/// file, in backups of it, or in `status` output.
public struct Remote: Sendable, Equatable {
    public var url: String
    public var library: String
    public var insecure: Bool

    public init(url: String, library: String, insecure: Bool = false) {
        self.url = url; self.library = library; self.insecure = insecure
    }

    /// Refuses plain http:// to anything but loopback unless `insecure`: a device token sent in
    /// clear over hotel Wi-Fi is a token anyone can use.
    public static func validate(url: String, insecure: Bool) throws {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
              let host = parts.host, !host.isEmpty, scheme == "http" || scheme == "https" else {
            throw SyncError(.config, "'\(url)' is not an http(s) URL of a sync server")
        }
        if scheme == "http" && !insecure && !isLoopback(host) {
            throw SyncError(.config, "refusing plain http:// to \(host): use https://, or --insecure if you really mean it")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

extension Store {
    var tokenPath: String { path + ".token" }

    public func remote() throws -> Remote? {
        guard let url = try meta("remote.url"), let library = try meta("remote.library") else { return nil }
        return Remote(url: url, library: library, insecure: try meta("remote.insecure") == "1")
    }

    /// Configures the remote. Changing server or library resets the sync cursor.
    public func setRemote(_ remote: Remote, token: String) throws {
        try Remote.validate(url: remote.url, insecure: remote.insecure)
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, !trimmed.contains(where: \.isWhitespace) else {
            throw SyncError(.config, "the token is empty or malformed: paste the token `syncserver device enroll` printed")
        }
        // Create the file with mode 0600 before writing the secret into it.
        _ = FileManager.default.createFile(atPath: tokenPath, contents: nil, attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tokenPath)
        guard let handle = FileHandle(forWritingAtPath: tokenPath) else {
            throw SyncError(.config, "cannot write \(tokenPath)")
        }
        try handle.truncate(atOffset: 0)
        handle.write(Data((trimmed + "\n").utf8))
        try handle.close()
        let previous = try self.remote()
        try write { db in
            try Self.setMeta("remote.url", remote.url, in: db)
            try Self.setMeta("remote.library", remote.library, in: db)
            try Self.setMeta("remote.insecure", remote.insecure ? "1" : "0", in: db)
            if previous?.url != remote.url || previous?.library != remote.library {
                for key in ["sync.cursor", "sync.epoch", "sync.acked"] { try Self.setMeta(key, nil, in: db) }
            }
        }
    }

    func token() throws -> String {
        guard let data = FileManager.default.contents(atPath: tokenPath),
              let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !token.isEmpty else {
            throw SyncError(.config, "no device token (expected in \(tokenPath)): run `synccli remote set URL --library L --token T`")
        }
        return token
    }
}
