import Foundation
import SyncCore
import Testing
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
enum Binaries {
    /// `$SYNCSERVER_BIN`, else `syncserver` next to `synccli`.
    static let syncserver: String = {
        if let fromEnv = ProcessInfo.processInfo.environment["SYNCSERVER_BIN"], !fromEnv.isEmpty { return fromEnv }
        return URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("syncserver").path
    }()
    static let setpriv: String? = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }
}

enum ProcessError: Error, CustomStringConvertible {
    case failed(String)
    var description: String { switch self { case .failed(let s): s } }
}

// MARK: - Spawning

/// Starts children from one thread that never exits: PR_SET_PDEATHSIG fires when the *thread*
/// that forked the child ends, so spawning from the test's (pooled) threads would be unsafe.
final class Spawner: @unchecked Sendable {
    static let shared = Spawner()
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []

    private init() {
        let thread = Thread { [unowned self] in
            while true {
                condition.lock()
                while jobs.isEmpty { condition.wait() }
                let job = jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
        thread.name = "e2e-spawner"
        thread.start()
    }

    func run(_ process: Process) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        condition.lock()
        jobs.append {
            do { try process.run() } catch { failure = error }
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        if let failure { throw failure }
    }
}

/// One child process, its stdout and stderr in a log file. SIGKILLed in `deinit` if still running.
final class ChildProcess: @unchecked Sendable {
    let name: String
    let logPath: String
    private let process = Process()
    private let log: FileHandle
    private let errorLog: FileHandle?

    /// `separateStderr`: standard error goes to `<logPath>.err` (see ``errorOutput()``) instead
    /// of the same log.
    init(name: String, executable: String, arguments: [String], environment: [String: String], logPath: String,
         separateStderr: Bool = false) throws {
        self.name = name
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        if separateStderr {
            _ = FileManager.default.createFile(atPath: logPath + ".err", contents: nil)
            errorLog = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath + ".err"))
        } else {
            errorLog = nil
        }
        if let setpriv = Binaries.setpriv {
            process.executableURL = URL(fileURLWithPath: setpriv)
            process.arguments = ["--pdeathsig", "KILL", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        process.environment = environment
        process.standardOutput = log
        process.standardError = errorLog ?? log
        process.standardInput = FileHandle.nullDevice
        try Spawner.shared.run(process)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? log.close()
        try? errorLog?.close()
        if errorLog != nil { try? FileManager.default.removeItem(atPath: logPath + ".err") }
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func signal(_ signo: Int32) {
        if process.isRunning { kill(process.processIdentifier, signo) }
    }

    /// The exit: `.exited(code)` or `.signalled(signo)`; nil if still running after `timeout`.
    func waitForExit(timeout: TimeInterval) -> Termination? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(10_000)
        }
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
            ? .signalled(process.terminationStatus) : .exited(process.terminationStatus)
    }

    /// SIGKILL and reap.
    func forceKill() {
        signal(SIGKILL)
        _ = waitForExit(timeout: 30)
    }

    /// Everything the child printed so far.
    func output() -> String {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: logPath))) ?? Data(), as: UTF8.self)
    }

    /// Standard error, when started with `separateStderr`.
    func errorOutput() -> String {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: logPath + ".err"))) ?? Data(), as: UTF8.self)
    }

    /// Waits until the child's output satisfies `condition`.
    func waitForOutput(timeout: TimeInterval, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(output()) { return true }
            usleep(20_000)
        }
        return condition(output())
    }
}

enum Termination: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    var description: String {
        switch self {
        case .exited(let code): "exited \(code)"
        case .signalled(let signo): "killed by signal \(signo)"
        }
    }
}

/// Waits for `condition` (polled every 50 ms); true if it held before `timeout`.
func eventually(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if try condition() { return true }
        usleep(50_000)
    } while Date() < deadline
    return try condition()
}

// MARK: - A minimal HTTP/1.1 client (loopback only)

struct HTTPReply: CustomStringConvertible {
    let status: Int
    let headers: [String: String]   // lowercased names
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    var description: String { "HTTP \(status) \(headers) \(text.prefix(500))" }
    func object() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ProcessError.failed("not a JSON object: \(self)")
        }
        return o
    }
}

enum HTTP {
    /// One request on a fresh connection (`Connection: close`), read to the end.
    static func request(port: Int, _ method: String, _ path: String, headers: [String: String] = [:],
                        body: [UInt8] = [], timeout: TimeInterval = 30) throws -> HTTPReply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProcessError.failed("socket: \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ProcessError.failed("connect to 127.0.0.1:\(port): errno \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        let out = Array(head.utf8) + body
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ProcessError.failed("send: errno \(errno)") }
            sent += n
        }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw ProcessError.failed("recv: errno \(errno)") }
            data.append(contentsOf: buffer[0..<n])
        }
        return try parse(data)
    }

    static func parse(_ data: [UInt8]) throws -> HTTPReply {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, data.count - 3)).first(where: { Array(data[$0..<$0 + 4]) == separator }) else {
            throw ProcessError.failed("no HTTP header in \(data.count) bytes")
        }
        let lines = String(decoding: data[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ProcessError.failed("bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var decoded: [UInt8] = [], i = 0
            while i < body.count {
                guard let lineEnd = (i..<body.count - 1).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                      let size = Int(String(decoding: body[i..<lineEnd], as: UTF8.self).split(separator: ";")[0], radix: 16)
                else { break }
                if size == 0 { break }
                decoded += body[(lineEnd + 2)..<(lineEnd + 2 + size)]
                i = lineEnd + 2 + size + 2
            }
            body = decoded
        } else if let length = headers["content-length"].flatMap(Int.init), length < body.count {
            body = Array(body.prefix(length))
        }
        return HTTPReply(status: status, headers: headers, body: body)
    }

    /// A port nobody listens on right now (the kernel's pick for an ephemeral bind).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProcessError.failed("socket: \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw ProcessError.failed("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

// MARK: - The server

/// A device enrolled with `syncserver device enroll`.
struct Device: Sendable {
    let id: String
    let token: String
    let name: String
}

/// What a `syncserver` admin command did.
struct AdminResult: CustomStringConvertible {
    let args: [String]
    let status: Int32
    let stdout: String
    let stderr: String
    var description: String { "syncserver \(args.joined(separator: " ")) → \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// The real `syncserver serve` on a loopback port, with a data directory of its own.
final class ServerProcess: @unchecked Sendable {
    let data: String
    let library: String
    let logDirectory: String
    private(set) var port: Int = 0
    private(set) var child: ChildProcess?
    private var starts = 0
    var url: String { "http://127.0.0.1:\(port)" }

    /// Creates the data directory and the library with `syncserver library create` (the server
    /// is not started: see ``start(failpoints:environment:timeout:)``).
    init(_ scratch: Scratch, library: String = "newsroom") throws {
        data = scratch.path("server-data")
        logDirectory = scratch.url.path
        self.library = library
        let created = try admin("library", "create", library, "--data", data)
        guard created.status == 0 else { throw ProcessError.failed("\(created)") }
    }

    deinit { child?.forceKill() }

    /// Runs an admin command (`library …`, `device …`, `epoch …`) against this data directory.
    @discardableResult
    func admin(_ args: String...) throws -> AdminResult { try admin(args) }

    func admin(_ args: [String]) throws -> AdminResult {
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("ARTICLESYNC_") { env[key] = nil }
        let scratch = logDirectory + "/admin-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch + ".log") }
        let child = try ChildProcess(name: "syncserver admin", executable: Binaries.syncserver, arguments: args,
                                     environment: env, logPath: scratch + ".log", separateStderr: true)
        guard let end = child.waitForExit(timeout: 60) else {
            child.forceKill()
            throw ProcessError.failed("syncserver \(args.joined(separator: " ")) still running after 60 s")
        }
        let status: Int32 = if case .exited(let code) = end { code } else { 128 }
        return AdminResult(args: args, status: status, stdout: child.output(), stderr: child.errorOutput())
    }

    /// `syncserver device enroll`; parses the id and the token it prints once.
    func enroll(_ name: String, readOnly: Bool = false) throws -> Device {
        var args = ["device", "enroll", "--library", library, "--name", name, "--data", data, "--url", "http://127.0.0.1:\(port)"]
        if readOnly { args.append("--read-only") }
        let r = try admin(args)
        guard r.status == 0 else { throw ProcessError.failed("\(r)") }
        let id = r.stdout.split(separator: "\n").first.flatMap { line -> String? in
            line.split(separator: " ").first { $0.hasPrefix("dev_") }.map(String.init)
        }
        let token = r.stdout.split(separator: "\n").first { $0.hasPrefix("token: ") }.map { String($0.dropFirst("token: ".count)) }
        guard let id, let token, token.hasPrefix("ast_") else { throw ProcessError.failed("cannot parse enrolment:\n\(r)") }
        return Device(id: id, token: token, name: name)
    }

    func revoke(_ device: Device) throws {
        let r = try admin("device", "revoke", device.id, "--data", data)
        guard r.status == 0 else { throw ProcessError.failed("\(r)") }
    }

    /// A laptop enrolled for this library: a store `<name>.sqlite` in `scratch`, `init`ed and
    /// pointed at this server with its own token.
    func laptop(_ scratch: Scratch, _ name: String, clockOffsetMillis: Int64? = nil, readOnly: Bool = false) throws -> (Laptop, Device) {
        if port == 0 { port = try HTTP.freePort() }
        let device = try enroll(name, readOnly: readOnly)
        let laptop = Laptop(scratch.path("\(name).sqlite"), clockOffsetMillis: clockOffsetMillis)
        try laptop.run("init", "--name", name).expect(0)
        try laptop.run("remote", "set", url, "--library", library, "--token", device.token).expect(0)
        return (laptop, device)
    }

    /// Starts `syncserver serve` and waits for `/healthz`. The first start picks a free port;
    /// a restart reuses it (what clients have configured). `failpoints` sets
    /// `ARTICLESYNC_FAILPOINTS` for this run only.
    func start(failpoints: String? = nil, environment: [String: String] = [:], timeout: TimeInterval = 60) throws {
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
                arguments: ["serve", "--data", data, "--host", "127.0.0.1", "--port", String(port), "--log-level", "info"],
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
    func stop(signal signo: Int32 = SIGTERM, timeout: TimeInterval = 60) -> Termination? {
        guard let child else { return nil }
        child.signal(signo)
        let end = child.waitForExit(timeout: timeout)
        if end == nil { child.forceKill() }
        return end
    }

    /// SIGKILL, like a power cut.
    func kill() { child?.forceKill() }

    /// Open TCP connections accepted by the server right now (from `/proc/net/tcp`: state
    /// ESTABLISHED, local port = ours), i.e. requests in flight or idle keep-alives.
    func establishedConnections() -> Int {
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
    func output() -> String { child?.output() ?? "" }

    // MARK: HTTP API

    func get(_ path: String, token: String?) throws -> HTTPReply {
        var headers: [String: String] = [:]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try HTTP.request(port: port, "GET", path, headers: headers)
    }

    /// `GET /v1/libraries/L`.
    func info(token: String) throws -> LibraryInfo {
        let reply = try get("/v1/libraries/\(library)", token: token)
        guard reply.status == 200 else { throw ProcessError.failed("library info: \(reply)") }
        let o = try reply.object()
        return LibraryInfo(head: o["head"] as? Int ?? -1, changesets: o["changesets"] as? Int ?? -1, ops: o["ops"] as? Int ?? -1,
                           replicas: (o["replicas"] as? [String: Int]) ?? [:], epoch: o["epoch"] as? String ?? "")
    }

    /// Every frame the server returns on a full pull from cursor 0, page by page.
    func pullAll(token: String) throws -> [Changeset] {
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

struct LibraryInfo: Equatable, CustomStringConvertible {
    let head: Int
    let changesets: Int
    let ops: Int
    let replicas: [String: Int]
    let epoch: String
    var description: String { "head \(head), \(changesets) changesets, \(ops) ops, replicas \(replicas)" }
}

// MARK: - Agents

extension Laptop {
    /// Starts `synccli agent` on this store (logs in `<store>.agent.log`); SIGKILLed when the
    /// returned value goes away if still running.
    func startAgent(_ args: [String], env extra: [String: String] = [:]) throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment
        for key in ["ARTICLESYNC_STORE", "ARTICLESYNC_CLOCK_OFFSET_MS", "ARTICLESYNC_FAILPOINTS"] { environment[key] = nil }
        environment.merge(env) { _, new in new }
        environment.merge(extra) { _, new in new }
        return try ChildProcess(name: "synccli agent", executable: CLI.binary,
                                arguments: ["--store", store, "agent"] + args,
                                environment: environment, logPath: store + ".agent.log")
    }
}
