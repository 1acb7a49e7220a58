/// A small set of splices that turns one text into another, over Unicode scalars: common prefix
/// and suffix trimmed, then Myers' O(ND) diff on what is left, then changes a short common
/// stretch apart joined into one.
public enum TextDiff {
    /// At `position` of the old text, delete `deleteCount` scalars and insert `inserted`.
    /// Positions are in the old text; changes are in order and do not overlap.
    public struct Change: Equatable, Sendable {
        public let position: Int
        public let deleteCount: Int
        public let inserted: [Unicode.Scalar]
    }

    /// Beyond this many differing scalars, the middle is replaced as one change (the diff would
    /// cost more than it saves).
    public static let maxEditDistance = 2048

    public static func changes(from old: [Unicode.Scalar], to new: [Unicode.Scalar]) -> [Change] {
        var prefix = 0
        while prefix < old.count && prefix < new.count && old[prefix] == new[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < old.count - prefix && suffix < new.count - prefix && old[old.count - 1 - suffix] == new[new.count - 1 - suffix] {
            suffix += 1
        }
        let a = old[prefix..<(old.count - suffix)]
        let b = new[prefix..<(new.count - suffix)]
        if a.isEmpty && b.isEmpty { return [] }
        if a.isEmpty || b.isEmpty {
            return [Change(position: prefix, deleteCount: a.count, inserted: Array(b))]
        }
        guard let script = myers(Array(a), Array(b)) else {
            return [Change(position: prefix, deleteCount: a.count, inserted: Array(b))]
        }
        // Group the script into changes: runs of deletions and insertions between equal stretches.
        var changes: [Change] = []
        var i = 0
        var j = 0
        var k = 0
        while k < script.count {
            if script[k] == .equal {
                i += 1
                j += 1
                k += 1
                continue
            }
            let position = i
            var deleted = 0
            var inserted: [Unicode.Scalar] = []
            while k < script.count && script[k] != .equal {
                if script[k] == .delete {
                    deleted += 1
                    i += 1
                } else {
                    inserted.append(b[b.startIndex + j])
                    j += 1
                }
                k += 1
            }
            changes.append(Change(position: prefix + position, deleteCount: deleted, inserted: inserted))
        }
        return merged(changes, old: old)
    }

    /// Joins changes separated by a common stretch no longer than the changes on both sides of
    /// it (diff-match-patch's semantic cleanup). Myers finds the fewest changed scalars, and
    /// between two unrelated sentences that means letters they happen to share, kept, with a
    /// change between each: a rewritten note would be dozens of ops, each costing more than the
    /// letters it keeps, and the text would be left in fragments. Retyping such a stretch keeps
    /// the rewrite one change; deliberate small edits around longer text (quote marks around a
    /// phrase, a word fixed in each of two sentences) stay separate, so a highlight of the text
    /// between them keeps its characters.
    static func merged(_ changes: [Change], old: [Unicode.Scalar]) -> [Change] {
        // A joined change is longer, which may let it join the one before: repeat until stable.
        var changes = changes
        while true {
            let pass = mergedOnce(changes, old: old)
            if pass.count == changes.count { return pass }
            changes = pass
        }
    }

    static func mergedOnce(_ changes: [Change], old: [Unicode.Scalar]) -> [Change] {
        guard var current = changes.first else { return [] }
        var out: [Change] = []
        for next in changes.dropFirst() {
            let gapStart = current.position + current.deleteCount
            let gap = next.position - gapStart
            if gap <= max(current.deleteCount, current.inserted.count) && gap <= max(next.deleteCount, next.inserted.count) {
                current = Change(
                    position: current.position, deleteCount: current.deleteCount + gap + next.deleteCount,
                    inserted: current.inserted + old[gapStart..<next.position] + next.inserted)
            } else {
                out.append(current)
                current = next
            }
        }
        out.append(current)
        return out
    }

    enum Step: Equatable { case equal, delete, insert }

    /// Myers' greedy shortest edit script, or nil when it needs more than ``maxEditDistance``.
    static func myers(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> [Step]? {
        let n = a.count
        let m = b.count
        let limit = min(n + m, maxEditDistance)
        let offset = limit + 1
        var v = [Int](repeating: 0, count: 2 * limit + 3)
        // Per d, the frontier it started from, for k in -d-1 ... d+1 (what the walk back reads).
        var trace: [[Int]] = []
        var found = false
        outer: for d in 0...limit {
            trace.append(Array(v[(offset - d - 1)...(offset + d + 1)]))
            var k = -d
            while k <= d {
                var x: Int
                if k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]) {
                    x = v[offset + k + 1]
                } else {
                    x = v[offset + k - 1] + 1
                }
                var y = x - k
                while x < n && y < m && a[x] == b[y] {
                    x += 1
                    y += 1
                }
                v[offset + k] = x
                if x >= n && y >= m {
                    found = true
                    break outer
                }
                k += 2
            }
        }
        guard found else { return nil }
        // Walk back through the saved frontiers.
        var steps: [Step] = []
        var x = n
        var y = m
        for d in stride(from: trace.count - 1, through: 0, by: -1) {
            let frontier = trace[d]
            let at = d + 1  // frontier[at + k] is v[k]
            let k = x - y
            let previousK: Int
            if k == -d || (k != d && frontier[at + k - 1] < frontier[at + k + 1]) {
                previousK = k + 1
            } else {
                previousK = k - 1
            }
            let previousX = d == 0 ? 0 : frontier[at + previousK]
            let previousY = previousX - previousK
            while x > previousX && y > previousY {
                steps.append(.equal)
                x -= 1
                y -= 1
            }
            if d > 0 {
                if x == previousX {
                    steps.append(.insert)
                } else {
                    steps.append(.delete)
                }
                x = previousX
                y = previousY
            }
        }
        while x > 0 && y > 0 {
            steps.append(.equal)
            x -= 1
            y -= 1
        }
        return steps.reversed()
    }
}
