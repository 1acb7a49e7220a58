/// Finding a highlight again from its W3C selectors, when there are no character ids to go by
/// (an annotation imported from JSON Lines or from Hypothesis): the position if the text there
/// is still the quote, else the exact quote (the occurrence whose context fits best), else an
/// approximate match with at most half the quote's length in edits (after Hypothesis'
/// `match-quote`: quote 50, prefix 20, suffix 20, position 2).
public enum QuoteMatch {
    public enum Method: String, Sendable, Codable { case position, exact, approximate }

    public struct Match: Hashable, Sendable {
        public let range: Range<Int>
        public let method: Method
    }

    public static func locate(
        exact: [Unicode.Scalar], prefix: [Unicode.Scalar] = [], suffix: [Unicode.Scalar] = [], position: Int? = nil,
        in text: [Unicode.Scalar]
    ) -> Match? {
        guard !exact.isEmpty, exact.count <= text.count + exact.count / 2 else { return nil }
        if let p = position, p >= 0, p + exact.count <= text.count, text[p..<p + exact.count].elementsEqual(exact) {
            return Match(range: p..<p + exact.count, method: .position)
        }
        var best: (score: Double, range: Range<Int>)?
        func consider(_ range: Range<Int>, quality: Double) {
            let score =
                50 * quality + 20 * contextFit(prefix, before: range.lowerBound, in: text)
                + 20 * contextFit(suffix, after: range.upperBound, in: text)
                + 2 * positionFit(range.lowerBound, hint: position, length: text.count)
            if best == nil || score > best!.score { best = (score, range) }
        }
        var i = 0
        while i + exact.count <= text.count {
            if text[i] == exact[0] && text[i..<i + exact.count].elementsEqual(exact) { consider(i..<i + exact.count, quality: 1) }
            i += 1
        }
        if let best { return Match(range: best.range, method: .exact) }
        let maxErrors = min(256, exact.count / 2)
        guard maxErrors > 0 else { return nil }
        for (end, errors) in approximateEnds(of: exact, in: text, maxErrors: maxErrors) {
            let start = bestStart(of: exact, endingAt: end, in: text, maxErrors: maxErrors)
            guard start < end else { continue }
            consider(start..<end, quality: 1 - Double(errors) / Double(exact.count))
        }
        return best.map { Match(range: $0.range, method: .approximate) }
    }

    /// How much of `context` the text just before `index` repeats, 0…1 (1 when there is none).
    static func contextFit(_ context: [Unicode.Scalar], before index: Int, in text: [Unicode.Scalar]) -> Double {
        guard !context.isEmpty else { return 1 }
        var n = 0
        while n < context.count && index - 1 - n >= 0 && text[index - 1 - n] == context[context.count - 1 - n] { n += 1 }
        return Double(n) / Double(context.count)
    }

    static func contextFit(_ context: [Unicode.Scalar], after index: Int, in text: [Unicode.Scalar]) -> Double {
        guard !context.isEmpty else { return 1 }
        var n = 0
        while n < context.count && index + n < text.count && text[index + n] == context[n] { n += 1 }
        return Double(n) / Double(context.count)
    }

    static func positionFit(_ start: Int, hint: Int?, length: Int) -> Double {
        guard let hint, length > 0 else { return 1 }
        return 1 - Double(min(abs(start - hint), length)) / Double(length)
    }

    /// Sellers' algorithm: the ends of the text's substrings within `maxErrors` edits of
    /// `pattern`, each the local best (fewest errors).
    static func approximateEnds(of pattern: [Unicode.Scalar], in text: [Unicode.Scalar], maxErrors: Int) -> [(end: Int, errors: Int)] {
        let m = pattern.count
        var column = Array(0...m)
        var ends: [(Int, Int)] = []
        for (j, scalar) in text.enumerated() {
            var diagonal = column[0]
            column[0] = 0  // a match may start anywhere
            for i in 1...m {
                let above = column[i]
                column[i] = min(above + 1, column[i - 1] + 1, diagonal + (pattern[i - 1] == scalar ? 0 : 1))
                diagonal = above
            }
            if column[m] <= maxErrors { ends.append((j + 1, column[m])) }
        }
        // Keep, in every stretch of consecutive ends, the one with the fewest errors.
        var kept: [(end: Int, errors: Int)] = []
        var previousEnd = Int.min
        for (end, errors) in ends {
            if !kept.isEmpty, end - previousEnd <= 1 {
                if errors < kept[kept.count - 1].errors { kept[kept.count - 1] = (end, errors) }
            } else {
                kept.append((end, errors))
            }
            previousEnd = end
        }
        return kept
    }

    /// The start, for a match ending at `end`, that needs the fewest edits.
    static func bestStart(of pattern: [Unicode.Scalar], endingAt end: Int, in text: [Unicode.Scalar], maxErrors: Int) -> Int {
        let reversed = Array(pattern.reversed())
        let m = reversed.count
        var column = Array(0...m)
        var bestStart = max(0, end - m)
        var bestErrors = Int.max
        var j = end - 1
        while j >= max(0, end - m - maxErrors) {
            var diagonal = column[0]
            column[0] += 1  // anchored at `end`: skipped text costs
            for i in 1...m {
                let above = column[i]
                column[i] = min(above + 1, column[i - 1] + 1, diagonal + (reversed[i - 1] == text[j] ? 0 : 1))
                diagonal = above
            }
            if column[m] < bestErrors || (column[m] == bestErrors && abs(end - j - m) < abs(end - bestStart - m)) {
                bestErrors = column[m]
                bestStart = j
            }
            j -= 1
        }
        return bestStart
    }
}
