import Foundation
import SyncFailpoints
import SyncModel
public import SyncStore
import SyncWire

/// Where this store syncs: the server URL and library (kept in the store's ``SyncState``), with
/// the device token in a separate file readable only by its owner (``TokenFile``) so it never
/// sits in the store file, in backups of it, or in `status` output.
public typealias Remote = SyncState.Remote

extension Remote {
    /// Refuses plain http:// to anything but loopback unless `insecure`: a device token sent in
    /// clear over hotel Wi-Fi is a token anyone can use.
    public static func validate(url: String, insecure: Bool) throws(SyncClientError) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
            let host = parts.host, !host.isEmpty, scheme == "http" || scheme == "https"
        else {
            throw SyncClientError(.config, "'\(url)' is not an http(s) URL of a sync server")
        }
        if scheme == "http" && !insecure && !isLoopback(host) {
            throw SyncClientError(.config, "refusing plain http:// to \(host): use https://, or --insecure if you really mean it")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

/// `<store>.token`: the device token, mode 0600, next to the store.
public struct TokenFile: Sendable {
    public let path: String

    public init(store: Store) { path = store.path + ".token" }

    /// Writes the token, creating the file with mode 0600 before the secret goes into it.
    func write(_ token: String) throws(SyncClientError) {
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        do {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
            try handle.truncate(atOffset: 0)
            handle.write(Data((token + "\n").utf8))
            try handle.close()
        } catch {
            throw SyncClientError(.config, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    func read() throws(SyncClientError) -> String {
        guard let data = FileManager.default.contents(atPath: path),
            let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !token.isEmpty
        else {
            throw SyncClientError(.config, "no device token (expected in \(path)): run `synccli remote set URL --library L --token T`")
        }
        return token
    }
}

extension Store {
    /// The configured remote, if any.
    public func remote() throws -> Remote? { try syncState().remote }

    /// Configures the remote and writes the token file. Changing server or library forgets the
    /// old server's cursor, epoch and ack.
    public func setRemote(_ remote: Remote, token: String) throws {
        try Remote.validate(url: remote.url, insecure: remote.insecure)
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, !trimmed.contains(where: \.isWhitespace) else {
            throw SyncClientError(.config, "the token is empty or malformed: paste the token `syncserver device enroll` printed")
        }
        try TokenFile(store: self).write(trimmed)
        try updateSyncState { state in
            if state.remote?.url != remote.url || state.remote?.library != remote.library { state.forgetServer() }
            state.remote = remote
        }
    }
}
