import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SyncFailpoints
import SyncModel
import SyncStore
import SyncWire

/// One HTTP exchange with the sync server, as plain values so the sync logic can be tested
/// with a fake transport.
public struct SyncRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(method: String, path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method; self.path = path; self.headers = headers; self.body = body
    }
}

public struct SyncResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

public protocol SyncTransport: Sendable {
    /// Performs the request; throws only for transport failures (no connection, timeout).
    func send(_ request: SyncRequest) async throws -> SyncResponse
}

/// The real transport: AsyncHTTPClient, with a bounded response size.
public struct HTTPTransport: SyncTransport {
    public let baseURL: String
    public let timeout: Duration
    public let maxResponseBytes: Int

    public init(baseURL: String, timeout: Duration = .seconds(60), maxResponseBytes: Int = 64 << 20) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// One client per process. Unlike `HTTPClient.shared`, a refused or failed connection fails
    /// the request at once instead of being retried by the pool until the request's deadline
    /// (60 s per attempt against a server that is down): ``SyncClient`` retries with its own
    /// backoff, and the agent needs to learn quickly that the server is unreachable.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public func send(_ request: SyncRequest) async throws -> SyncResponse {
        var http = HTTPClientRequest(url: baseURL + request.path)
        http.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        if let body = request.body { http.body = .bytes(ByteBuffer(bytes: body)) }
        let (seconds, attoseconds) = timeout.components
        let deadline = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let response = try await Self.client.execute(http, timeout: deadline)
        let buffer = try await response.body.collect(upTo: maxResponseBytes)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name] = header.value }
        return SyncResponse(status: Int(response.status.code), headers: headers, body: Array(buffer.readableBytesView))
    }
}
