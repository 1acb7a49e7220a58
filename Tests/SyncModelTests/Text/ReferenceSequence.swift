@testable import SyncModel

/// The test oracle for ``TextSequence``: the same ordering rule written the simplest way, one
/// array element per character and a linear search for every id (after the reference YjsMod
/// integration of josephg/reference-crdts, which Eg-walker uses and which orders like FugueMax).
/// It shares nothing with the run-based code but the op types, so a bug in run splitting,
/// chunking or the scan shows as a different text.
struct ReferenceSequence {
    struct Item {
        let id: CharID
        let left: CharID?
        let right: CharID?
        let scalar: Unicode.Scalar
        var deleted = false
    }

    var items: [Item] = []
    var waiting: [TextEdit] = []

    var text: String {
        var view = String.UnicodeScalarView()
        for item in items where !item.deleted { view.append(item.scalar) }
        return String(view)
    }

    func index(of id: CharID?) -> Int? {
        guard let id else { return nil }
        return items.firstIndex { $0.id == id }
    }

    func has(_ id: CharID?) -> Bool { id == nil || index(of: id) != nil }

    mutating func apply(_ edit: TextEdit) {
        waiting.append(edit)
        var progress = true
        while progress {
            progress = false
            var still: [TextEdit] = []
            for edit in waiting {
                if tryApply(edit) { progress = true } else { still.append(edit) }
            }
            waiting = still
        }
    }

    mutating func tryApply(_ edit: TextEdit) -> Bool {
        switch edit {
        case .insert(let insert):
            if has(insert.id) { return true }
            guard has(insert.left), has(insert.right) else { return false }
            for (k, scalar) in insert.text.enumerated() {
                let id = CharID(replica: insert.id.replica, seq: insert.id.seq + UInt32(k))
                let left = k == 0 ? insert.left : CharID(replica: insert.id.replica, seq: insert.id.seq + UInt32(k - 1))
                integrate(Item(id: id, left: left, right: insert.right, scalar: scalar))
            }
            return true
        case .delete(let delete):
            var targets: [Int] = []
            for range in delete.ranges {
                for k in 0..<range.count {
                    guard let i = index(of: CharID(replica: range.replica, seq: range.seq + k)) else { return false }
                    targets.append(i)
                }
            }
            for i in targets { items[i].deleted = true }
            return true
        }
    }

    mutating func integrate(_ item: Item) {
        let left = index(of: item.left) ?? -1
        let right = index(of: item.right) ?? items.count
        var destination = left + 1
        var scanning = false
        var i = left + 1
        while true {
            if !scanning { destination = i }
            if i == items.count || i == right { break }
            let other = items[i]
            let otherLeft = index(of: other.left) ?? -1
            let otherRight = index(of: other.right) ?? items.count
            if otherLeft < left { break }
            if otherLeft == left {
                if otherRight < right {
                    scanning = true
                } else if otherRight == right {
                    if item.id.replica < other.id.replica { break }
                    scanning = false
                } else {
                    scanning = false
                }
            }
            i += 1
        }
        items.insert(item, at: destination)
    }
}
