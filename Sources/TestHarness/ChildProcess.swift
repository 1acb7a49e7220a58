public import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum ProcessError: Error, CustomStringConvertible {
    case failed(String)
    public var description: String {
        switch self {
        case .failed(let s): s
        }
    }
}

// MARK: - Spawning

/// Starts children from one thread that never exits: PR_SET_PDEATHSIG fires when the *thread*
/// that forked the child ends, so spawning from the test's (pooled) threads would be unsafe.
public final class Spawner: @unchecked Sendable {
    public static let shared = Spawner()
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

    public func run(_ process: Process) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
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
public final class ChildProcess: @unchecked Sendable {
    public let name: String
    public let logPath: String
    private let process = Process()
    private let log: FileHandle
    private let errorLog: FileHandle?

    /// `separateStderr`: standard error goes to `<logPath>.err` (see ``errorOutput()``) instead
    /// of the same log.
    public init(
        name: String, executable: String, arguments: [String], environment: [String: String], logPath: String,
        separateStderr: Bool = false
    ) throws {
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

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public func signal(_ signo: Int32) {
        if process.isRunning { kill(process.processIdentifier, signo) }
    }

    /// The exit: `.exited(code)` or `.signalled(signo)`; nil if still running after `timeout`.
    public func waitForExit(timeout: TimeInterval) -> Termination? {
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
    public func forceKill() {
        signal(SIGKILL)
        _ = waitForExit(timeout: 30)
    }

    /// Everything the child printed so far.
    public func output() -> String {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: logPath))) ?? Data(), as: UTF8.self)
    }

    /// Standard error, when started with `separateStderr`.
    public func errorOutput() -> String {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: logPath + ".err"))) ?? Data(), as: UTF8.self)
    }

    /// Waits until the child's output satisfies `condition`.
    public func waitForOutput(timeout: TimeInterval, _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(output()) { return true }
            usleep(20_000)
        }
        return condition(output())
    }
}

public enum Termination: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    public var description: String {
        switch self {
        case .exited(let code): "exited \(code)"
        case .signalled(let signo): "killed by signal \(signo)"
        }
    }
}

/// Waits for `condition` (polled every 50 ms); true if it held before `timeout`.
public func eventually(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if try condition() { return true }
        usleep(50_000)
    } while Date() < deadline
    return try condition()
}
