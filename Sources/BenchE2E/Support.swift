import BenchKit
import Foundation
import SyncClientKit
public import SyncModel
public import SyncStore
import SyncWire
import TestHarness

#if canImport(Glibc)
import Glibc
#endif

/// A SyncTransport that counts requests and body bytes (request + response bodies, as on the
/// wire: changesets are already zlib-compressed frames).
final class CountingTransport: SyncTransport, @unchecked Sendable {
    let inner: any SyncTransport
    private let lock = NSLock()
    private var _requests = 0
    private var _sent = 0
    private var _received = 0

    init(_ inner: any SyncTransport) { self.inner = inner }

    func send(_ request: SyncRequest) async throws -> SyncResponse {
        let response = try await inner.send(request)
        lock.withLock {
            _requests += 1
            _sent += request.body?.count ?? 0
            _received += response.body.count
        }
        return response
    }

    /// (requests, request body bytes, response body bytes) since the last call.
    func take() -> (requests: Int, sent: Int, received: Int) {
        lock.lock(); defer { lock.unlock() }
        let r = (_requests, _sent, _received)
        _requests = 0; _sent = 0; _received = 0
        return r
    }
}

/// /proc/<pid>/status and friends (Linux).
enum ProcStat {
    /// Peak resident set (VmHWM) in KiB.
    static func peakKiB(pid: Int32? = nil) -> Int {
        field("VmHWM", pid: pid)
    }

    static func rssKiB(pid: Int32? = nil) -> Int { field("VmRSS", pid: pid) }

    static func field(_ name: String, pid: Int32?) -> Int {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
        }
        return -1
    }

    /// Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`), so the next reading
    /// is the peak of the phase that follows.
    static func resetPeak(pid: Int32? = nil) {
        let path = "/proc/\(pid.map(String.init) ?? "self")/clear_refs"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.write(Data("5".utf8))
            try? handle.close()
        }
    }
}

/// Bytes of a SQLite store on disk: the file and its -wal / -shm.
func storeBytes(_ path: String) -> Int {
    ["", "-wal", "-shm"].reduce(0) { sum, suffix in
        let size = (try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? NSNumber)?.intValue ?? 0
        return sum + size
    }
}

func directoryBytes(_ path: String) -> Int {
    guard let items = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    for case let item as String in items {
        let size = (try? FileManager.default.attributesOfItem(atPath: path + "/" + item)[.size] as? NSNumber)?.intValue ?? 0
        total += size
    }
    return total
}

/// Runs a command to completion; returns its standard output.
@discardableResult
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct Stopwatch {
    var start = DispatchTime.now().uptimeNanoseconds
    var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}
