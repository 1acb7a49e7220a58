import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Named points where the fault suite can make a process fail on purpose, to prove that no
/// acknowledged or committed work is lost whatever the moment of a crash.
///
/// Disabled unless the environment variable `ARTICLESYNC_FAILPOINTS` names them, as
/// `name=action[,name=action…]`. Actions:
/// - `crash`: SIGKILL this process at once (like a power cut: no cleanup, no flush);
/// - `crash-in:MS`: SIGKILL this process MS milliseconds from now, letting work go on meanwhile
///   (e.g. a request already on the wire);
/// - `sleep:MS`: pause MS milliseconds (widens a window for an external kill).
/// Each point fires every time it is reached. Points (see RELIABILITY.md):
/// `client.push.after-build`, `client.push.after-response`, `client.pull.mid-apply`,
/// `server.push.after-decode`, `server.push.mid-apply`, `server.push.after-commit`.
public enum Failpoint {
    static let actions: [String: String] = {
        guard let spec = ProcessInfo.processInfo.environment["ARTICLESYNC_FAILPOINTS"], !spec.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { result[parts[0]] = parts[1] }
        }
        return result
    }()

    /// True when any failpoint is configured (for a warning at startup).
    public static var enabled: Bool { !actions.isEmpty }

    public static func hit(_ name: String) {
        guard let action = actions[name] else { return }
        if action == "crash" {
            kill(getpid(), SIGKILL)
        } else if action.hasPrefix("crash-in:"), let ms = UInt32(action.dropFirst("crash-in:".count)) {
            Thread.detachNewThread {
                usleep(ms * 1000)
                kill(getpid(), SIGKILL)
            }
        } else if action.hasPrefix("sleep:"), let ms = UInt32(action.dropFirst("sleep:".count)) {
            usleep(ms * 1000)
        }
    }
}
