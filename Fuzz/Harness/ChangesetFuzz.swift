// libFuzzer target: the changeset decoder (`Changeset.decodeAll`) and the server's push
// validation (`PushValidation.validate`, exactly what `POST …/changesets` runs on a body).
// Built by Fuzz/run.sh with `swiftc -sanitize=fuzzer,address` from the SyncModel and SyncWire
// modules (`-enable-testing`, so internal helpers are visible here).
//
// The first input byte picks a mode:
//   even: the rest is a changeset file, decoded as received (headers, limits, inflate, SHA-256);
//   odd:  byte 1 gives an op count (1…8), the rest is a raw *payload* wrapped here into a valid
//         frame (right lengths, zlib, SHA-256) so mutations reach the op parser instead of
//         dying at the checksum; bits 1–2 of byte 0 pick the frame format (0: format 3, the
//         columns; 1: format 1, the wave-1 op bodies; 2 and 3: format 2, the op envelope).
// Invariants (a violation is a crash): whatever decodes re-encodes in formats 2 and 3 and
// decodes to the same ops;
// a frame the push validation accepts also decodes with decodeAll to exactly that frame and
// has no op past the clock bound and no stamp going back; refusals use only the documented codes.
import Crypto
import Foundation
import SyncModel

@testable import SyncWire

let limits = ChangesetLimits(maxCompressedBytes: 1 << 20, maxUncompressedBytes: 8 << 20, maxInflateRatio: 1032, maxOps: 100_000)
let now: UInt64 = 1_800_000_000_000
let fuzzReplica = ReplicaID(bytes: Array(0..<16))!
let documented: Set<String> = ["too_large", "bad_changeset", "unsupported_version", "clock_skew", "hlc_backwards"]

let shaSelfTest: Void = {
    let digest = Array(SHA256.hash(data: Array("abc".utf8))).hexString
    precondition(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 shim is wrong: \(digest)")
}()

func wrap(count: Int, payload: [UInt8], format: UInt8) -> [UInt8] {
    var w = ByteWriter(capacity: Changeset.headerSize + payload.count)
    w.raw(Changeset.magic); w.u8(format); w.u8(0)
    if format >= 2 { w.u8(Changeset.FrameType.ops.rawValue); w.u8(0) }
    w.raw(fuzzReplica.bytes)
    w.fixed(UInt64(1)); w.fixed(UInt64(count)); w.fixed(UInt32(count))
    w.fixed(UInt32(payload.count))
    w.raw(Changeset.digest(w.bytes[...], payload))
    let body = Zlib.deflate(payload)
    w.fixed(UInt32(body.count))
    w.raw(body)
    return w.bytes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChangeset(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = shaSelfTest
    guard size >= 1 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let bytes: [UInt8]
    if input[0] & 1 == 1 {
        guard size >= 2 else { return 0 }
        let format: UInt8 = [3, 1, 2, 2][Int(input[0] >> 1 & 3)]
        bytes = wrap(count: Int(input[1] % 8) + 1, payload: Array(input[2...]), format: format)
    } else {
        bytes = Array(input[1...])
    }

    if let frames = try? Changeset.decodeAll(bytes, limits: limits) {
        precondition(!frames.isEmpty, "decodeAll returned no frame without an error")
        for frame in frames {
            for format in Changeset.writableFormats {
                let again: [UInt8]
                do { again = try Changeset.encode(frame.ops, format: format) } catch {
                    preconditionFailure("decoded ops do not re-encode in format \(format): \(error)")
                }
                guard let back = try? Changeset.decode(again, limits: .default) else {
                    preconditionFailure("re-encoded frame (format \(format)) does not decode")
                }
                precondition(back.ops == frame.ops, "round trip through format \(format) changed the ops")
                precondition(back.replica == frame.replica)
            }
        }
    }

    switch PushValidation.validate(bytes, limits: limits, nowMillis: now, maxClockSkewMillis: 300_000) {
    case .success(let changeset):
        guard let all = try? Changeset.decodeAll(bytes, limits: limits) else { preconditionFailure("push accepted what decodeAll refuses") }
        precondition(all.count == 1 && all[0] == changeset, "push accepted something other than one frame")
        precondition(changeset.ops.allSatisfy { $0.hlc.millis <= now + 300_000 }, "push accepted an op past the clock bound")
        precondition(zip(changeset.ops, changeset.ops.dropFirst()).allSatisfy { $0.hlc <= $1.hlc }, "push accepted a clock going back")
        precondition(changeset.lastCounter <= UInt64(Int64.max))
    case .failure(let refusal):
        precondition(documented.contains(refusal.code), "undocumented refusal code \(refusal.code)")
        precondition(!refusal.reason.isEmpty)
    }
    return 0
}
