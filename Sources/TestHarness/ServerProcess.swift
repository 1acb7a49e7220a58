public import Foundation
public import SyncWire

#if canImport(Glibc)
import Glibc
#endif

/// Real processes for the end-to-end suites: the `syncserver` binary on a free loopback port
/// with its own `--data` directory, and long-running `synccli agent`s.
///
/// ```swift
/// let dir = try Scratch()
/// let server = try ServerProcess(dir)           // `library create newsroom`
/// let (a, device) = try server.laptop(dir, "A") // enrol + `init` + `remote set`
/// try server.start()                            // waits for /healthz
/// try a.run("sync").expect(0)
/// _ = try server.stop()                         // SIGTERM; 0 = clean exit
/// ```
///
/// Nothing leaks: every child is SIGKILLed in `deinit` (so also when a test throws or an
/// expectation fails), and every child is started under `setpriv --pdeathsig KILL` from one
/// thread that lives as long as the test process, so the kernel kills them even if the test
/// process itself crashes.
public enum Binaries {
    /// `$SYNCSERVER_BIN`, else `syncserver` next to the running executable (the bench) or of the
    /// same build as `synccli` (the tests).
    public static let syncserver: String = {
        if let fromEnv = ProcessInfo.processInfo.environment["SYNCSERVER_BIN"], !fromEnv.isEmpty { return fromEnv }
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            let sibling = exe.deletingLastPathComponent().appendingPathComponent("syncserver").path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        return URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("syncserver").path
    }()
    static let setpriv: String? = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// A device enrolled with `syncserver device enroll`.
public struct EnrolledDevice: Sendable {
    public let id: String
    public let token: String
    public let name: String
}

/// What a `syncserver` admin command did.
public struct AdminResult: CustomStringConvertible {
    public let args: [String]
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var description: String { "syncserver \(args.joined(separator: " ")) → \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// The real `syncserver serve` on a loopback port, with a data directory of its own.
public final class ServerProcess: @unchecked Sendable {
    public let data: String
    public let library: String
    public let logDirectory: String
    public private(set) var port: Int = 0
    public private(set) var child: ChildProcess?
    private var starts = 0
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Creates the data directory and the library with `syncserver library create` (the server
    /// is not started: see ``start(failpoints:environment:timeout:)``).
    public convenience init(_ scratch: Scratch, library: String = "newsroom") throws {
        try self.init(directory: scratch.url.path, library: library)
    }

    /// The same in a directory of the caller's (kept after the server stops).
    public init(directory: String, library: String = "newsroom") throws {
        data = directory + "/server-data"
        logDirectory = directory
        self.library = library
        let created = try admin("library", "create", library, "--data", data)
        guard created.status == 0 else { throw ProcessError.failed("\(created)") }
    }

    deinit { child?.forceKill() }

    /// Picks the port the server will listen on (before laptops are pointed at it).
    public func reservePort() throws {
        if port == 0 { port = try HTTP.freePort() }
    }

    /// Runs an admin command (`library …`, `device …`, `epoch …`) against this data directory.
    @discardableResult
    public func admin(_ args: String...) throws -> AdminResult { try admin(args) }

    public func admin(_ args: [String]) throws -> AdminResult {
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("ARTICLESYNC_") { env[key] = nil }
        let scratch = logDirectory + "/admin-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch + ".log") }
        let child = try ChildProcess(
            name: "syncserver admin", executable: Binaries.syncserver, arguments: args,
            environment: env, logPath: scratch + ".log", separateStderr: true)
        guard let end = child.waitForExit(timeout: 60) else {
            child.forceKill()
            throw ProcessError.failed("syncserver \(args.joined(separator: " ")) still running after 60 s")
        }
        let status: Int32 = if case .exited(let code) = end { code } else { 128 }
        return AdminResult(args: args, status: status, stdout: child.output(), stderr: child.errorOutput())
    }

    /// `syncserver device enroll --json`; reads the id and the token it prints once.
    public func enroll(_ name: String, readOnly: Bool = false) throws -> EnrolledDevice {
        var args = ["device", "enroll", "--library", library, "--name", name, "--data", data, "--url", "http://127.0.0.1:\(port)", "--json"]
        if readOnly { args.append("--read-only") }
        let r = try admin(args)
        guard r.status == 0 else { throw ProcessError.failed("\(r)") }
        let json = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let id = (json?["device"] as? [String: Any])?["id"] as? String
        let token = json?["token"] as? String
        guard let id, let token, token.hasPrefix("ast_") else { throw ProcessError.failed("cannot parse enrolment:\n\(r)") }
        return EnrolledDevice(id: id, token: token, name: name)
    }

    public func revoke(_ device: EnrolledDevice) throws {
        let r = try admin("device", "revoke", device.id, "--data", data)
        guard r.status == 0 else { throw ProcessError.failed("\(r)") }
    }

    /// Starts `syncserver serve` and waits for `/healthz`. The first start picks a free port;
    /// a restart reuses it (what clients have configured). `failpoints` sets
    /// `ARTICLESYNC_FAILPOINTS` for this run only.
    public func start(
        failpoints: String? = nil, environment: [String: String] = [:], logLevel: String = "info",
        timeout: TimeInterval = 60
    ) throws {
        if let child, child.isRunning { throw ProcessError.failed("the server is already running") }
        let fixedPort = port != 0
        for attempt in 1...5 {
            if !fixedPort && attempt > 1 { port = try HTTP.freePort() }
            if port == 0 { port = try HTTP.freePort() }
            starts += 1
            var env = ProcessInfo.processInfo.environment
            for key in env.keys where key.hasPrefix("ARTICLESYNC_") { env[key] = nil }
            env["ARTICLESYNC_FAILPOINTS"] = failpoints
            env.merge(environment) { _, new in new }
            let child = try ChildProcess(
                name: "syncserver", executable: Binaries.syncserver,
                arguments: ["serve", "--data", data, "--host", "127.0.0.1", "--port", String(port), "--log-level", logLevel],
                environment: env, logPath: "\(logDirectory)/server-\(starts).log")
            self.child = child
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline && child.isRunning {
                if let reply = try? HTTP.request(port: port, "GET", "/healthz", timeout: 5), reply.status == 200 { return }
                usleep(50_000)
            }
            if child.isRunning {
                child.forceKill()
                throw ProcessError.failed("syncserver did not answer /healthz within \(Int(timeout)) s:\n\(child.output())")
            }
            // Exited at once: most likely the port was taken in the meantime; a restart on a
            // fixed port waits for it to be released.
            if fixedPort { usleep(300_000) }
        }
        throw ProcessError.failed("syncserver would not start:\n\(child?.output() ?? "")")
    }

    /// SIGTERM (or `signal`), then waits for the exit. Returns how it ended (nil: still running
    /// after `timeout`, in which case it is SIGKILLed).
    @discardableResult
    public func stop(signal signo: Int32 = SIGTERM, timeout: TimeInterval = 60) -> Termination? {
        guard let child else { return nil }
        child.signal(signo)
        let end = child.waitForExit(timeout: timeout)
        if end == nil { child.forceKill() }
        return end
    }

    /// SIGKILL, like a power cut.
    public func kill() { child?.forceKill() }

    /// Open TCP connections accepted by the server right now (from `/proc/net/tcp`: state
    /// ESTABLISHED, local port = ours), i.e. requests in flight or idle keep-alives.
    public func establishedConnections() -> Int {
        // Read to the end: String(contentsOfFile:) stops after the first page of a /proc file.
        let handle = FileHandle(forReadingAtPath: "/proc/net/tcp")
        defer { try? handle?.close() }
        let table = String(decoding: handle?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        let local = String(format: ":%04X", port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1].hasSuffix(local) && fields[3] == "01"
        }.count
    }

    /// The server's output of the current (or last) run.
    public func output() -> String { child?.output() ?? "" }

    // MARK: HTTP API

    public func get(_ path: String, token: String?) throws -> HTTPReply {
        var headers: [String: String] = ["Accept": SyncAPI.accept]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try HTTP.request(port: port, "GET", path, headers: headers)
    }

    /// `GET /v1/libraries/L`.
    public func info(token: String) throws -> LibraryInfo {
        let reply = try get("/v1/libraries/\(library)", token: token)
        guard reply.status == 200 else { throw ProcessError.failed("library info: \(reply)") }
        let o = try reply.object()
        return LibraryInfo(
            head: o["head"] as? Int ?? -1, changesets: o["changesets"] as? Int ?? -1, ops: o["ops"] as? Int ?? -1,
            replicas: (o["replicas"] as? [String: Int]) ?? [:], epoch: o["epoch"] as? String ?? "")
    }

    /// Every frame the server returns on a full pull from cursor 0, page by page.
    public func pullAll(token: String) throws -> [Changeset] {
        var cursor = 0, frames: [Changeset] = []
        for _ in 0..<10_000 {
            let reply = try get("/v1/libraries/\(library)/changes?since=\(cursor)&limit=1000", token: token)
            if reply.status == 204 { break }
            guard reply.status == 200, let next = reply.headers["articlesync-next"].flatMap(Int.init), next > cursor else {
                throw ProcessError.failed("pull since \(cursor): \(reply)")
            }
            frames += try Changeset.decodeAll(reply.body)
            cursor = next
            if reply.headers["articlesync-more"] != "true" { break }
        }
        return frames
    }
}

public struct LibraryInfo: Equatable, CustomStringConvertible {
    public let head: Int
    public let changesets: Int
    public let ops: Int
    public let replicas: [String: Int]
    public let epoch: String
    public var description: String { "head \(head), \(changesets) changesets, \(ops) ops, replicas \(replicas)" }
}
