import Foundation
public import SyncModel
public import SyncWire

extension Store {
    /// Everything the holder of `since` may lack, as changeset frames (one or more per origin
    /// replica, each a contiguous counter range of at most `maxOpsPerFrame` ops), concatenated:
    /// the content of a changeset file.
    public func exportChangesets(
        since: VersionVector = VersionVector(), maxOpsPerFrame: Int = 20_000, format: UInt8 = Changeset.formatMajor
    ) throws -> (bytes: [UInt8], frames: Int, ops: Int) {
        let ops = try self.ops(since: since)
        var bytes: [UInt8] = []
        var frames = 0
        for run in Self.contiguousRuns(ops, maxLength: maxOpsPerFrame) {
            bytes += try Changeset.encode(run, format: format)
            frames += 1
        }
        return (bytes, frames, ops.count)
    }

    /// Splits ops (grouped by replica, counters ascending) into runs a frame can carry.
    static func contiguousRuns(_ ops: [Op], maxLength: Int) -> [[Op]] {
        var runs: [[Op]] = []
        var current: [Op] = []
        for op in ops {
            if let last = current.last,
                last.id.replica != op.id.replica || last.id.counter + 1 != op.id.counter || current.count >= maxLength
            {
                runs.append(current)
                current = []
            }
            current.append(op)
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// Verifies every frame of a changeset file (lengths, checksums, ops) and only then merges
    /// them: a damaged file is refused with nothing applied.
    @discardableResult
    public func applyChangesets(_ bytes: [UInt8], limits: ChangesetLimits = .default) throws -> MergeReport {
        // `export` writes an empty file when the other side lacks nothing: nothing to apply.
        if bytes.isEmpty { return MergeReport() }
        let frames = try Changeset.decodeAll(bytes, limits: limits)
        return try merge(frames.flatMap(\.ops))
    }
}
