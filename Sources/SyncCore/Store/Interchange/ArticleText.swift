import Foundation
public import SyncModel
import SyncWire

/// Turns a captured text (plain, Markdown or HTML) into an ``ArticleDraft``.
///
/// Plain text follows the wire-copy shape of the seed article: first line the title, second line
/// the lead, then the paragraphs.
///
/// ```swift
/// let draft = try ArticleText.parse("Title\nLead\nParagraph one\nParagraph two", format: .text)
/// draft.summary   // "Lead"
/// ```
public enum ArticleText {
    public enum Format: String, CaseIterable, Sendable { case text, markdown, html }

    public static func parse(_ raw: String, format: Format) throws -> ArticleDraft {
        let text = raw.replacingOccurrences(of: "\r\n", with: "\n")
        switch format {
        case .text: return try plain(text)
        case .markdown: return try markdown(text)
        case .html: return try plain(htmlToText(text))
        }
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func plain(_ text: String) throws -> ArticleDraft {
        let nonEmpty = lines(text).filter { !$0.isEmpty }
        guard let title = nonEmpty.first else {
            throw StoreError(.invalidInput, "the input is empty: expected a title on the first line")
        }
        let summary = nonEmpty.count > 1 ? nonEmpty[1] : ""
        let body = nonEmpty.dropFirst(2).joined(separator: "\n")
        return ArticleDraft(title: title, summary: summary, body: body.isEmpty ? summary : body)
    }

    static func markdown(_ text: String) throws -> ArticleDraft {
        var all = lines(text)
        guard let headingIndex = all.firstIndex(where: { !$0.isEmpty }) else {
            throw StoreError(.invalidInput, "the input is empty: expected a '# Title' line")
        }
        let title = all[headingIndex].drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces)
        all.removeSubrange(0...headingIndex)
        let paragraphs = all.split(separator: "", omittingEmptySubsequences: true).map { $0.joined(separator: " ") }
        let summary = paragraphs.first ?? ""
        let body = paragraphs.dropFirst().joined(separator: "\n")
        return ArticleDraft(title: title, summary: summary, body: body.isEmpty ? summary : body)
    }

    /// A small HTML-to-text conversion for saved pages: title from `<h1>` or `<title>`, one line per
    /// block element, tags, scripts and styles dropped, common entities decoded.
    static func htmlToText(_ html: String) -> String {
        var s = html
        for pattern in ["(?is)<script.*?</script>", "(?is)<style.*?</style>", "(?is)<!--.*?-->", "(?is)<head.*?</head>"] {
            if pattern.contains("head"), let title = firstMatch("(?is)<title[^>]*>(.*?)</title>", in: s),
                firstMatch("(?is)<h1[^>]*>(.*?)</h1>", in: s) == nil
            {
                s = "<p>\(title)</p>" + s
            }
            s = s.replacingOccurrences(of: pattern, with: "", options: .regularExpression)
        }
        s = s.replacingOccurrences(
            of: "(?i)</?(p|div|h[1-6]|li|br|tr|blockquote|article|section)[^>]*>", with: "\n",
            options: .regularExpression)
        s = s.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
        for (entity, char) in [("&nbsp;", " "), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&amp;", "&")] {
            s = s.replacingOccurrences(of: entity, with: char)
        }
        return s
    }

    static func firstMatch(_ pattern: String, in s: String) -> String? {
        guard let range = s.range(of: pattern, options: .regularExpression) else { return nil }
        return s[range].replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
    }
}
