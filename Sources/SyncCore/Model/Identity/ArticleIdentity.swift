import Crypto
import Foundation

/// How an article gets its id, so that the same story captured twice — on one laptop or on two,
/// offline — is one article after sync.
///
/// ```swift
/// ArticleIdentity.canonicalURL("HTTPS://Example.com/news/1/?utm_source=x#top")
/// // "https://example.com/news/1"
/// ArticleIdentity.id(url: "https://example.com/news/1", title: "", body: "")   // 32 hex chars
/// ```
public enum ArticleIdentity {
    /// Query parameters that say how a reader arrived, not what they read.
    static let trackingParameters: Set<String> = [
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref", "ref_src", "_hsenc", "_hsmi",
    ]

    /// The canonical form of an article URL: scheme and host lower-cased, default port, fragment
    /// and tracking parameters (`utm_*`, `fbclid` …) dropped, remaining parameters sorted, a
    /// trailing slash removed. Returns nil for anything that is not an absolute http(s) URL.
    public static func canonicalURL(_ raw: String) -> String? {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard var parts = URLComponents(string: trimmed),
            let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parts.host, !host.isEmpty
        else { return nil }
        parts.scheme = scheme
        parts.host = host.lowercased()
        if (scheme == "http" && parts.port == 80) || (scheme == "https" && parts.port == 443) { parts.port = nil }
        parts.fragment = nil
        parts.user = nil
        parts.password = nil
        let kept = (parts.queryItems ?? []).filter { item in
            let name = item.name.lowercased()
            return !name.hasPrefix("utm_") && !trackingParameters.contains(name)
        }
        parts.queryItems = kept.isEmpty ? nil : kept.sorted { ($0.name, $0.value ?? "") < ($1.name, $1.value ?? "") }
        var path = parts.percentEncodedPath
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        if path == "/" { path = "" }
        parts.percentEncodedPath = path
        return parts.string
    }

    /// The article id: from the canonical URL when there is one, else from the normalised title
    /// and body. 32 hex characters (128 bits of SHA-256).
    public static func id(url: String?, title: String, body: String) -> String {
        if let url, let canonical = canonicalURL(url) {
            return digest("url\u{0}" + canonical)
        }
        return digest("text\u{0}" + normalisedText(title) + "\u{0}" + normalisedText(body))
    }

    /// NFC, whitespace runs collapsed to one space, trimmed, lower-cased: the same story pasted
    /// with different line breaks gets the same id.
    static func normalisedText(_ s: String) -> String {
        s.nfc
            .split(whereSeparator: { $0.isWhitespace })
            .joined(separator: " ")
            .lowercased()
    }

    static func digest(_ s: String) -> String {
        SHA256.hash(data: Data(s.utf8)).prefix(16).hexString
    }
}
