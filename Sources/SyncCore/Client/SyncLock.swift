import Foundation
import SyncFailpoints
import SyncModel
public import SyncStore
import SyncWire

#if canImport(Glibc)
import Glibc
#endif

/// Makes sure only one sync runs on a store at a time (the agent, or a manual `synccli sync`):
/// an advisory `flock` on `<store>.sync.lock`, released when the process exits, even by kill -9.
/// Local edits do not take it: SQLite transactions already keep them consistent with a sync.
public final class SyncLock: @unchecked Sendable {
    let fd: Int32
    public let path: String

    private init(fd: Int32, path: String) { self.fd = fd; self.path = path }

    /// Takes the lock, waiting up to `wait` seconds (0: fail at once). `onWait` is called once
    /// if the lock is busy, so the CLI can say why it is waiting.
    public static func acquire(for store: Store, wait: Double, onWait: ((String) -> Void)? = nil) async throws -> SyncLock {
        let path = store.path + ".sync.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SyncClientError(.config, "cannot open \(path): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(wait)
        var told = false
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let who = holder.isEmpty ? "another sync" : holder
            if Date() >= deadline {
                close(fd)
                throw SyncClientError(.retryLater, "\(who) is running on this store; try again when it finishes (or wait with --wait SECONDS)")
            }
            if !told { onWait?("\(who) is running on this store; waiting for it to finish…"); told = true }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        let lock = SyncLock(fd: fd, path: path)
        lock.describe("sync by pid \(getpid()) (\(CommandLine.arguments.dropFirst().prefix(1).joined()))")
        return lock
    }

    /// Writes who holds the lock into the lock file, for the next waiter's message.
    public func describe(_ holder: String) {
        _ = ftruncate(fd, 0)
        _ = holder.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    public func release() {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
