import SyncFailpoints
import SyncModel
import SyncStore
import SyncWire

extension SyncClient {
    /// Sends this replica's ops the server has not acknowledged, in frames of at most
    /// `opsPerChangeset` ops and `maxFrameBytes` of op bodies. An ack is recorded only after the
    /// server's 2xx, so an interrupted push is simply sent again (the server answers a replay with
    /// the same ack).
    public func push() async throws -> PushReport {
        var report = PushReport()
        var acked = try store.syncState().acked
        var rounds = 0
        // Format 3 unless the server says it reads no newer than 2 (a server of the previous
        // version answers 422 unsupported_version): then the same ops go again in format 2.
        var format = Changeset.formatMajor
        while shouldStop?() != true {
            let ops = Self.frameCut(
                try store.ops(since: VersionVector([store.replica: acked]), replica: store.replica, limit: opsPerChangeset),
                maxBytes: maxFrameBytes)
            guard let last = ops.last else { break }
            rounds += 1
            guard rounds < 100_000 else { throw SyncClientError(.protocolError, "push is not making progress") }
            let frame = try Changeset.encode(ops, format: format)
            Failpoint.hit("client.push.after-build")
            let response = try await exchange(
                SyncRequest(
                    method: "POST", path: SyncAPI.Path.changesets(library: remote.library),
                    headers: [("Content-Type", SyncAPI.mediaType)], body: frame))
            Failpoint.hit("client.push.after-response")
            if let epoch = try newEpoch(response) {
                // The server was restored: what it holds of our ops is what it says now.
                report.epochChanged = true
                acked = try await adopt(epoch: epoch)
                continue
            }
            switch response.status {
            case 200:
                let ack = try decodeJSON(PushAck.self, response)
                guard ack.acked <= last.id.counter, ack.replica == store.replica.description else {
                    throw SyncClientError(
                        .protocolError, "the server acknowledged ops we did not send (acked \(ack.acked), sent up to \(last.id.counter))")
                }
                guard ack.acked > acked else { throw SyncClientError(.protocolError, "the server did not take ops \(acked + 1)…\(last.id.counter)") }
                acked = ack.acked
                let (newAcked, now, epoch) = (acked, store.now(), response.header(SyncAPI.Header.epoch))
                try updateServerState { state in
                    state.acked = newAcked
                    state.ackedAt = now
                    if state.epoch == nil { state.epoch = epoch }
                }
                report.opsSent += ops.count
                report.changesets += 1
                report.bytesSent += frame.count
                progress?("push", Int(acked), Int(try store.ownOpCount()))
            case 422 where format > 2 && errorBody(response)?.code == .unsupportedVersion:
                format = 2
            case 409 where errorBody(response)?.code == .gap:
                // The server holds fewer of our ops than we recorded (restored without a new
                // epoch): start again from what it has.
                let serverAcked = UInt64(max(0, errorBody(response)?.acked ?? 0))
                guard serverAcked < acked else { throw failure(response) }
                acked = serverAcked
                try updateServerState { $0.acked = serverAcked }
            default:
                throw failure(response)
            }
        }
        report.acked = acked
        return report
    }

    struct PushAck: Decodable { let replica: String; let acked: UInt64 }

    /// The longest prefix of `ops` whose op bodies add up to at most `maxBytes`; at least one op.
    static func frameCut(_ ops: [Op], maxBytes: Int) -> [Op] {
        var total = 0
        for (i, op) in ops.enumerated() {
            total += op.encodedBody?.count ?? OpCodec.encodeBody(op).count
            if total > maxBytes { return Array(ops[..<max(1, i)]) }
        }
        return ops
    }
}
