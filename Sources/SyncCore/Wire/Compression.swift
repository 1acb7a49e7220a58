import CZlib

/// zlib-format (RFC 1950) compression for changeset bodies, straight on the system zlib.
///
/// Inflating is written for hostile input: the output is produced in fixed chunks and refused as
/// soon as it would pass its bound, so a decompression bomb costs at most `limit` bytes of
/// memory, and a stream that is cut short, carries trailing bytes or inflates to another length
/// than declared is an error, never a silently shorter result.
///
/// ```swift
/// let packed = Zlib.deflate(payload)
/// let back = try Zlib.inflate(packed, expectedLength: payload.count, limit: 1 << 20)
/// ```
public enum Zlib {
    /// Output is produced this many bytes at a time, whatever the declared length, so memory
    /// grows only with what the stream really yields.
    static let chunkSize = 64 * 1024

    /// Compresses `bytes` into one complete zlib stream.
    /// - Parameter level: 0 (store) … 9 (smallest); 6 is zlib's own default.
    public static func deflate(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        // deflateInit is a C macro; the underlying call takes the header version and struct size
        // so that a mismatched libz refuses instead of corrupting memory.
        let initStatus = deflateInit_(&stream, level, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "deflateInit failed (\(initStatus)): bad level \(level) or out of memory")
        defer { deflateEnd(&stream) }

        // Our inputs are bounded well under 4 GiB (u32 lengths in the frame), so one bound call
        // sizes the output and a single Z_FINISH completes the stream.
        precondition(bytes.count <= Int(UInt32.max), "deflate input over 4 GiB")
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let status: Int32 = bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                // zlib never writes through next_in; the C header only lacks `const` here.
                stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.avail_in = uInt(input.count)
                stream.next_out = output.baseAddress
                stream.avail_out = uInt(output.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        precondition(status == Z_STREAM_END, "deflate did not finish within deflateBound (\(status))")
        out.removeLast(Int(stream.avail_out))
        return out
    }

    /// Decompresses one complete zlib stream that must yield exactly `expectedLength` bytes.
    ///
    /// Refused (with the reason) when: the output would exceed `min(expectedLength, limit)` (the
    /// check happens chunk by chunk, before more memory is used), the stream ends before its end
    /// marker and checksum, bytes follow the stream, the stream is corrupt, or the output length
    /// differs from `expectedLength`.
    public static func inflate(_ bytes: [UInt8], expectedLength: Int, limit: Int) throws(DecodeError) -> [UInt8] {
        do throws(InflateError) {
            return try inflateChecked(bytes, expectedLength: expectedLength, limit: limit)
        } catch {
            throw DecodeError(error.reason)
        }
    }

    /// Why ``inflateChecked(_:expectedLength:limit:)`` refused: callers map it to their own codes.
    struct InflateError: Error {
        enum Kind { case overLimit, truncated, trailingBytes, lengthMismatch, corrupt }
        let kind: Kind
        let reason: String
    }

    static func inflateChecked(_ bytes: [UInt8], expectedLength: Int, limit: Int) throws(InflateError) -> [UInt8] {
        let cap = max(0, min(expectedLength, limit))
        guard bytes.count <= Int(UInt32.max) else {
            throw InflateError(kind: .overLimit, reason: "compressed input of \(bytes.count) bytes is over 4 GiB")
        }
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw InflateError(kind: .corrupt, reason: "zlib could not start inflating (out of memory?)")
        }
        defer { inflateEnd(&stream) }

        // Grown chunk by chunk, never reserved from the (untrusted) declared length.
        var out: [UInt8] = []
        let chunk = UnsafeMutablePointer<UInt8>.allocate(capacity: chunkSize)
        defer { chunk.deallocate() }

        let result: InflateError? = bytes.withUnsafeBufferPointer { input -> InflateError? in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                // Room for one byte past the cap: producing it proves the stream is too long
                // without ever holding more than cap + 1 bytes.
                let room = min(chunkSize, cap + 1 - out.count)
                stream.next_out = chunk
                stream.avail_out = uInt(room)
                let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                let produced = room - Int(stream.avail_out)
                out.append(contentsOf: UnsafeBufferPointer(start: chunk, count: produced))
                if out.count > cap {
                    let which = expectedLength <= limit ? "the declared length \(expectedLength)" : "the limit \(limit)"
                    return InflateError(
                        kind: .overLimit,
                        reason: "inflated data exceeds \(which) bytes (stopped after \(out.count) bytes)")
                }
                switch status {
                case Z_STREAM_END:
                    return nil
                case Z_OK where produced > 0 || stream.avail_in > 0:
                    continue
                case Z_OK, Z_BUF_ERROR:
                    // No progress possible: all input was consumed before the end marker.
                    return InflateError(
                        kind: .truncated,
                        reason:
                            "zlib stream is truncated: its \(input.count) bytes end before the end marker and checksum (\(out.count) bytes inflated)")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    return InflateError(
                        kind: .corrupt,
                        reason: "zlib stream is corrupt at input byte \(Int(stream.total_in)): \(message)")
                }
            }
        }
        if let result { throw result }
        if stream.avail_in > 0 {
            throw InflateError(
                kind: .trailingBytes,
                reason: "\(stream.avail_in) bytes follow the end of the zlib stream at input byte \(Int(stream.total_in))")
        }
        guard out.count == expectedLength else {
            throw InflateError(
                kind: .lengthMismatch,
                reason: "zlib stream inflated to \(out.count) bytes, expected \(expectedLength)")
        }
        return out
    }
}
