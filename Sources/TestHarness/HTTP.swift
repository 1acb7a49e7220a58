public import Foundation

#if canImport(Glibc)
import Glibc
#endif

// MARK: - A minimal HTTP/1.1 client (loopback only)

public struct HTTPReply: CustomStringConvertible, Sendable {
    public let status: Int
    public let headers: [String: String]  // lowercased names
    public let body: [UInt8]
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var description: String { "HTTP \(status) \(headers) \(text.prefix(500))" }
    public func object() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ProcessError.failed("not a JSON object: \(self)")
        }
        return o
    }
}

public enum HTTP {
    /// One request on a fresh connection (`Connection: close`), read to the end.
    public static func request(
        port: Int, _ method: String, _ path: String, headers: [String: String] = [:],
        body: [UInt8] = [], timeout: TimeInterval = 30
    ) throws -> HTTPReply {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        return try raw(port: port, Array(head.utf8) + body, timeout: timeout)
    }

    /// `bytes` exactly as given (a request line, headers, a body: well-formed or not) on a fresh
    /// connection; the reply is read until the server closes the connection.
    public static func raw(port: Int, _ bytes: [UInt8], timeout: TimeInterval = 30) throws -> HTTPReply {
        let fd = try connected(port: port, timeout: timeout)
        defer { close(fd) }
        try send(fd, bytes)
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

    /// `bytes` on a fresh connection, which is then closed at once without reading anything: a
    /// client that goes away in the middle of its request.
    public static func sendAndClose(port: Int, _ bytes: [UInt8]) throws {
        let fd = try connected(port: port, timeout: 30)
        defer { close(fd) }
        try send(fd, bytes)
    }

    static func connected(port: Int, timeout: TimeInterval) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProcessError.failed("socket: \(errno)") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw ProcessError.failed("connect to 127.0.0.1:\(port): errno \(errno)")
        }
        return fd
    }

    static func send(_ fd: Int32, _ out: [UInt8]) throws {
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ProcessError.failed("send: errno \(errno)") }
            sent += n
        }
    }

    public static func parse(_ data: [UInt8]) throws -> HTTPReply {
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
    public static func freePort() throws -> Int {
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
