import Testing

@testable import SyncModel

@Suite struct TextDiffTests {
    static func apply(_ changes: [TextDiff.Change], to old: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var text = old
        for change in changes.reversed() {
            text.replaceSubrange(change.position..<change.position + change.deleteCount, with: change.inserted)
        }
        return text
    }

    @Test func `a rewritten note is one change, not letters the two versions happen to share`() {
        let old = Array("تحقق من المصدر قبل النشر".unicodeScalars)
        let new = Array("المراسل في الميدان أكد الرواية".unicodeScalars)
        let changes = TextDiff.changes(from: old, to: new)
        #expect(Self.apply(changes, to: old) == new)
        #expect(changes.count == 1, "\(changes.map { ($0.position, $0.deleteCount, String(String.UnicodeScalarView($0.inserted))) })")
    }

    @Test func `small deliberate edits around a phrase stay separate`() {
        let old = Array("one two three four five".unicodeScalars)
        let new = Array("one [two three four] five".unicodeScalars)
        let changes = TextDiff.changes(from: old, to: new)
        #expect(Self.apply(changes, to: old) == new)
        #expect(changes.map(\.position) == [4, 18])
        #expect(changes.allSatisfy { $0.deleteCount == 0 && $0.inserted.count == 1 })
    }

    @Test func `a corrected word in each of two paragraphs is two changes`() {
        let old = Array("قال المتحدث إن الوفد وصل.\nوأضاف أن المحادثات ستستمر غدا.".unicodeScalars)
        let new = Array("قال المتحدث إن الوفد وصل أمس.\nوأضاف أن المحادثات ستستأنف غدا.".unicodeScalars)
        let changes = TextDiff.changes(from: old, to: new)
        #expect(Self.apply(changes, to: old) == new)
        #expect(changes.count == 2)
    }
}
