import Testing

@testable import SyncModel

/// Highlights bound to characters (issue 13, item 5), with the scenario of the issue: the
/// corpus sentence about شارع الرشيد, a sentence added at the top, edits inside and around.
@Suite struct TextAnchorTests {
    let me = replica(1)
    let you = replica(2)
    let body = "انسحب الاحتلال من شارع الرشيد صباح اليوم. وقال شهود إن الدبابات عادت إلى شارع الرشيد مساء."

    func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    func covered(_ text: TextSequence, _ anchor: TextAnchor) -> String? {
        guard case .covering(let range)? = text.place(of: anchor) else { return nil }
        let all = text.scalars
        return String(String.UnicodeScalarView(all[range]))
    }

    func highlight(_ quote: String, in text: TextSequence) throws -> TextAnchor {
        let match = try #require(QuoteMatch.locate(exact: scalars(quote), in: text.scalars))
        return try #require(text.anchor(for: match.range))
    }

    @Test func `a sentence added at the top keeps the highlight on its words`() throws {
        var text = TextSequence()
        _ = text.insert(body, at: 0, by: me)
        let anchor = try highlight("شارع الرشيد", in: text)
        _ = text.replace(with: scalars("عاجل: تحديث من المراسل. " + body), by: me)
        #expect(covered(text, anchor) == "شارع الرشيد")
    }

    @Test func `typing at the edges stays outside, typing inside is covered, on every replica`() throws {
        var base = TextSequence()
        let genesis = base.insert(body, at: 0, by: me)!
        let anchor = try highlight("الاحتلال", in: base)
        guard case .covering(let range)? = base.place(of: anchor) else { Issue.record("not placed"); return }
        var a = base
        var b = base
        let before = a.insert("قوات ", at: range.lowerBound, by: me)!
        let after = a.insert(" الإسرائيلي", at: range.upperBound + 5, by: me)!
        let inside = b.insert("ـ", at: range.lowerBound + 4, by: you)!
        for order in [[before, after, inside], [inside, after, before]] {
            var text = TextSequence()
            text.apply(.insert(genesis))
            for edit in order { text.apply(.insert(edit)) }
            #expect(covered(text, anchor) == "الاحـتلال")
            #expect(text.text.contains("قوات الاحـتلال الإسرائيلي"))
        }
    }

    @Test func `partly deleted it shrinks, and never jumps to the other occurrence`() throws {
        var text = TextSequence()
        _ = text.insert(body, at: 0, by: me)
        let anchor = try highlight("شارع الرشيد", in: text)  // the first occurrence
        guard case .covering(let range)? = text.place(of: anchor) else { Issue.record("not placed"); return }
        _ = text.delete(range.lowerBound..<range.lowerBound + 5, by: me)  // "شارع "
        #expect(covered(text, anchor) == "الرشيد")
        guard case .covering(let shrunk)? = text.place(of: anchor) else { Issue.record("detached"); return }
        #expect(shrunk.lowerBound == range.lowerBound)
    }

    @Test func `deleting the highlighted sentence detaches it where it was`() throws {
        var text = TextSequence()
        _ = text.insert(body, at: 0, by: me)
        let anchor = try highlight("الدبابات", in: text)
        let sentence = try #require(QuoteMatch.locate(exact: scalars(" وقال شهود إن الدبابات عادت إلى شارع الرشيد مساء."), in: text.scalars))
        _ = text.delete(sentence.range, by: me)
        #expect(text.place(of: anchor) == .detached(at: sentence.range.lowerBound))
    }

    @Test func `an imported quote is found by position, then exact quote, then approximately`() {
        let text = scalars(body)
        let quote = scalars("شارع الرشيد")
        let second = QuoteMatch.locate(exact: quote, prefix: scalars("عادت إلى "), in: text)
        #expect(second?.method == .exact)
        #expect(second?.range.lowerBound == Anchor.find("شارع الرشيد", in: body, occurrence: 2)?.start)
        let byPosition = QuoteMatch.locate(exact: quote, position: 18, in: text)
        #expect(byPosition == QuoteMatch.Match(range: 18..<29, method: .position))
        let stalePosition = QuoteMatch.locate(exact: quote, position: 20, in: text)
        #expect(stalePosition?.method == .exact && stalePosition?.range.lowerBound == 18)
        let edited = scalars("انسحب الاحتلال من شارع الرشيد صباح اليوم.")
        let typo = QuoteMatch.locate(exact: scalars("شارع الرشيذ صباح"), in: edited)
        #expect(typo?.method == .approximate)
        #expect(typo?.range == 18..<34)
        #expect(QuoteMatch.locate(exact: scalars("مستشفى الشفاء"), in: text) == nil)
    }
}
