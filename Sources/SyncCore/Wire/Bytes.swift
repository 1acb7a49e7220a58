/// Little helpers for the binary formats: LEB128 varints, length-prefixed UTF-8 strings and
/// fixed-width big-endian integers. Reading never traps: every overrun is a ``DecodeError``.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { buffer in
            varint(UInt64(buffer.count))
            bytes.append(contentsOf: buffer)
        }
    }

    public mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }

    public mutating func fixed<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Why a binary input was refused.
public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

public struct ByteReader {
    let bytes: [UInt8]
    public private(set) var offset: Int
    let end: Int

    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = end ?? bytes.count
    }

    public var remaining: Int { end - offset }
    public var isAtEnd: Bool { offset >= end }

    public mutating func u8() throws(DecodeError) -> UInt8 {
        guard offset < end else { throw DecodeError("unexpected end of data at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func varint() throws(DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            if shift == 63 && b > 1 { throw DecodeError("varint overflows 64 bits at byte \(offset - 1)") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw DecodeError("varint too long at byte \(offset - 1)") }
        }
    }

    public mutating func zigzag() throws(DecodeError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    public mutating func length(limit: Int? = nil) throws(DecodeError) -> Int {
        let n = try varint()
        guard n <= UInt64(remaining), n <= UInt64(limit ?? Int.max) else {
            throw DecodeError("length \(n) at byte \(offset) runs past the end of the data")
        }
        return Int(n)
    }

    public mutating func raw(_ count: Int) throws(DecodeError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw DecodeError("unexpected end of data at byte \(offset)") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func string() throws(DecodeError) -> String {
        let n = try length()
        let slice = try raw(n)
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw DecodeError("invalid UTF-8 in string ending at byte \(offset)")
        }
        return s
    }

    public mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws(DecodeError) -> T {
        let slice = try raw(MemoryLayout<T>.size)
        var v: T = 0
        for b in slice { v = v << 8 | T(b) }
        return v
    }
}
