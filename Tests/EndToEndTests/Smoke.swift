import Testing
import SyncCore
@Test func `end-to-end target builds`() { #expect(SyncCoreVersion.string.isEmpty == false) }
