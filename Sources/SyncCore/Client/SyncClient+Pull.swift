import SyncFailpoints
import SyncModel
import SyncStore
import SyncWire

extension SyncClient {
    /// Fetches and merges the frames after the cursor, page by page; each page and the cursor
    /// that covers it are applied in one transaction, so an interrupted pull resumes after the
    /// last page it applied.
    ///
    /// The server leaves out the frames this replica pushed (it holds their ops already), except
    /// on the re-read after an epoch change, which takes everything the restored server has.
    public func pull() async throws -> PullReport {
        var report = PullReport()
        var cursor = try store.syncState().cursor
        var restarts = 0
        while true {
            let response = try await exchange(
                SyncRequest(
                    method: "GET",
                    path: SyncAPI.Path.changes(
                        library: remote.library, since: cursor, limit: pageLimit, excluding: restarts == 0 ? store.replica : nil)))
            let restoredEpoch = try newEpoch(response)
            if restoredEpoch != nil || (response.status == 409 && errorBody(response)?.code == .cursorAhead) {
                // The server was restored from a backup: read everything again (duplicates are
                // ignored) and let push re-send what it lost.
                restarts += 1
                guard restarts <= 3 else { throw failure(response) }
                report.epochChanged = true
                _ = try await adopt(epoch: restoredEpoch ?? response.header(SyncAPI.Header.epoch))
                cursor = 0
                continue
            }
            // A 204 ends the pull, unless its Next is past the cursor: the frames up to Next were
            // all our own, an empty page whose cursor is stored like any other.
            let next = response.header(SyncAPI.Header.next).flatMap { Int64($0) }
            if response.status == 204, (next ?? cursor) <= cursor { break }
            guard response.status == 200 || response.status == 204 else { throw failure(response) }
            guard let next, next > cursor else {
                throw SyncClientError(.protocolError, "the server's page has no valid \(SyncAPI.Header.next) header")
            }
            let frames = response.status == 200 ? try Changeset.decodeAll(response.body) : []
            let epoch = response.header(SyncAPI.Header.epoch)
            // The server bounded these ops by its own clock: ahead of ours means ours is behind,
            // which must not stop the pull (nor, after it, the push of our own work).
            let merged = try store.merge(
                frames.flatMap(\.ops), acceptingFuture: true,
                updatingSyncState: stillOurs { state in
                    Failpoint.hit("client.pull.mid-apply")
                    state.cursor = next
                    if let epoch { state.epoch = epoch }
                })
            cursor = next
            if !frames.isEmpty { report.pages += 1 }
            report.opsReceived += merged.received
            report.opsApplied += merged.applied
            report.clockBehindMillis = max(report.clockBehindMillis, merged.aheadOfClockMillis)
            report.bytesReceived += response.body.count
            let head = response.header(SyncAPI.Header.head).flatMap { Int($0) } ?? Int(next)
            progress?("pull", Int(next), head)
            if response.header(SyncAPI.Header.more)?.lowercased() != "true" || shouldStop?() == true { break }
        }
        report.cursor = cursor
        return report
    }
}
