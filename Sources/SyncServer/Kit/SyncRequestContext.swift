import Foundation
import HTTPTypes
public import Hummingbird
import Logging
public import ServerStorage
import SyncFailpoints
import SyncModel
import SyncWire

/// Per-request state: the request id (for logs and the `X-Request-Id` echo), and, on /v1
/// routes, the epoch and the authenticated device (set by `AuthMiddleware`).
public struct SyncRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String = ""
    public var epoch: String?
    public var device: Device?
    /// Shared by every copy of this context, so the outer middleware sees what inner ones
    /// learnt (the device id, for the request's log line).
    let shared = SharedRequestState()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Push bodies are read with an explicit cap (`ServerConfig.maxBodyBytes`), not through
    /// `decode`; this only bounds JSON decoding, which no route uses.
    public var maxUploadSize: Int { 64 * 1024 }
}

extension HTTPField.Name {
    static let requestID = Self(SyncAPI.Header.requestID)!
    static let epoch = Self(SyncAPI.Header.epoch)!
    static let next = Self(SyncAPI.Header.next)!
    static let more = Self(SyncAPI.Header.more)!
    static let head = Self(SyncAPI.Header.head)!
}

/// Request facts discovered deep in the chain and read at its outer end.
final class SharedRequestState: @unchecked Sendable {
    private let lock = NSLock()
    private var _deviceID: String?

    var deviceID: String? {
        get { lock.lock(); defer { lock.unlock() }; return _deviceID }
        set { lock.lock(); _deviceID = newValue; lock.unlock() }
    }
}
