/// An enrolled device: one token, one library, read-only or read-write.
public struct Device: Sendable, Hashable, Codable {
    public let id: String
    public let library: String
    public let name: String
    public let readOnly: Bool
    /// Bound on the first stored push: this device may only push ops of this replica.
    public let replica: String?
    public let createdAt: Int64
    public let revokedAt: Int64?

    public init(
        id: String, library: String, name: String, readOnly: Bool, replica: String?, createdAt: Int64,
        revokedAt: Int64?
    ) {
        self.id = id; self.library = library; self.name = name; self.readOnly = readOnly; self.replica = replica
        self.createdAt = createdAt; self.revokedAt = revokedAt
    }

    public var isRevoked: Bool { revokedAt != nil }
}
