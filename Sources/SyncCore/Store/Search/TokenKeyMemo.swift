import Foundation

/// A bounded memo from a word's raw UTF-8 bytes to the keys it is indexed under.
///
/// News vocabulary repeats (the same few thousand words make up most of a wire story), so
/// ``ArabicNormalizer`` runs once per distinct spelling instead of once per occurrence. Open
/// addressing over two byte arenas: a lookup hashes the bytes in place and allocates nothing.
/// Past ``capacity`` entries it starts again from empty, which bounds memory (~4 MB at 50,000
/// words) without the bookkeeping of an LRU.
///
/// A value is a run of records, one per key: a flags byte (0 = a new position, `1` = colocated
/// with the previous key, FTS5's `FTS5_TOKEN_COLOCATED`), a 2-byte little-endian length, the
/// key's bytes.
///
/// ```swift
/// let memo = TokenKeyMemo()
/// let value = memo.lookup(wordBytes) ?? memo.insert(wordBytes, value: TokenKeyMemo.encode(keys))
/// memo.values.withUnsafeBufferPointer { TokenKeyMemo.forEachKey(in: UnsafeBufferPointer(rebasing: $0[value])) { … } }
/// ```
final class TokenKeyMemo {
    private struct Entry {
        var hash: UInt64
        var keyStart: Int32
        var keyLength: Int32
        var valueStart: Int32
        var valueLength: Int32
    }

    let capacity: Int
    private var slots: [Int32]
    private var entries: [Entry] = []
    private var keys: [UInt8] = []
    /// The arena values point into (ranges returned by ``lookup(_:)`` and ``insert(_:value:)``).
    private(set) var values: [UInt8] = []
    /// How often the memo was emptied (for tests).
    private(set) var resets = 0

    init(capacity: Int = 50_000) {
        self.capacity = capacity
        var slotCount = 1024
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slots = Array(repeating: 0, count: slotCount)
    }

    var count: Int { entries.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// The value range in ``values`` memoized for `key`, if any.
    func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let h = Self.hash(key)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        return keys.withUnsafeBufferPointer { arena in
            while true {
                let index = Int(slots[slot])
                if index == 0 { return nil }
                let e = entries[index - 1]
                if e.hash == h && Int(e.keyLength) == key.count
                    && memcmp(arena.baseAddress! + Int(e.keyStart), key.baseAddress!, key.count) == 0
                {
                    return Int(e.valueStart)..<Int(e.valueStart + e.valueLength)
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Memoizes `value` for `key` (not already present) and returns its range in ``values``.
    @discardableResult
    func insert(_ key: UnsafeBufferPointer<UInt8>, value: [UInt8]) -> Range<Int> {
        if entries.count >= capacity { reset() }
        let h = Self.hash(key)
        let entry = Entry(
            hash: h, keyStart: Int32(keys.count), keyLength: Int32(key.count), valueStart: Int32(values.count),
            valueLength: Int32(value.count))
        keys.append(contentsOf: key)
        values.append(contentsOf: value)
        entries.append(entry)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entries.count)
        return Int(entry.valueStart)..<Int(entry.valueStart + entry.valueLength)
    }

    private func reset() {
        resets += 1
        entries.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = 0 }
    }

    /// Encodes the keys of one word, per position (see the type's documentation).
    static func encode(_ positions: [[String]]) -> [UInt8] {
        var out: [UInt8] = []
        for keys in positions {
            for (i, key) in keys.enumerated() {
                let bytes = Array(key.utf8.prefix(Int(UInt16.max)))
                out.append(i == 0 ? 0 : 1)
                out.append(UInt8(bytes.count & 0xFF))
                out.append(UInt8(bytes.count >> 8))
                out.append(contentsOf: bytes)
            }
        }
        return out
    }

    /// Calls `body(colocated, key)` for every key of an encoded value, stopping at the first
    /// non-zero result (an FTS5 error code) and returning it.
    @inline(__always)
    static func forEachKey(in value: UnsafeBufferPointer<UInt8>, _ body: (Bool, UnsafeBufferPointer<UInt8>) -> Int32) -> Int32 {
        var i = 0
        while i + 3 <= value.count {
            let length = Int(value[i + 1]) | Int(value[i + 2]) << 8
            let rc = body(value[i] != 0, UnsafeBufferPointer(rebasing: value[(i + 3)..<(i + 3 + length)]))
            if rc != 0 { return rc }
            i += 3 + length
        }
        return 0
    }
}
