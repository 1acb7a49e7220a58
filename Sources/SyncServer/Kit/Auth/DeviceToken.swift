import Crypto
import Foundation
import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// A device's bearer token: 32 random bytes shown once as `ast_` + base64url (no padding).
/// The server keeps only `hash` (SHA-256 of the token's UTF-8, lowercase hex).
///
/// ```swift
/// let token = DeviceToken.generate()
/// print(token.value)                      // "ast_q3…" (47 characters), shown once
/// try await store.enrollDevice(…, tokenHash: token.hash)
/// ```
public struct DeviceToken: Sendable, Hashable {
    public static let prefix = "ast_"
    /// 32 bytes in unpadded base64url.
    static let encodedLength = 43

    public let value: String

    /// Accepts only well-formed tokens, so that a malformed header is told apart from an
    /// unknown token (401 `unauthorized` vs 401 `invalid_token`).
    public init?(_ value: String) {
        guard value.hasPrefix(Self.prefix), value.utf8.count == Self.prefix.utf8.count + Self.encodedLength,
            value.utf8.dropFirst(Self.prefix.utf8.count).allSatisfy(Self.isBase64URL)
        else { return nil }
        self.value = value
    }

    public static func generate() -> DeviceToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let encoded = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return DeviceToken(prefix + encoded)!
    }

    public var hash: String { Self.hash(value) }

    public static func hash(_ token: String) -> String {
        Array(SHA256.hash(data: Array(token.utf8))).hexString
    }

    /// Parses `Authorization: Bearer <token>`; nil for a missing or malformed header.
    public static func fromAuthorization(_ header: String?) -> DeviceToken? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return DeviceToken(String(parts[1]))
    }

    static func isBase64URL(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }
}
