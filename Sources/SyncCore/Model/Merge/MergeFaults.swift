/// TEST-ONLY fault injection for the merge rules. Never set outside the test suite.
///
/// The convergence property tests (`Tests/SyncStoreTests/ConvergenceTests.swift`) use these to
/// show that they would catch a broken merge: with a fault on, some random schedule must diverge
/// or lose someone's work. The switch is `internal` (reachable only through `@testable import`)
/// and a `@TaskLocal`, so it is only ever on inside a `MergeFaults.$active.withValue(…) { … }`
/// scope of one test task; it cannot leak into another test running in parallel, and it is off
/// again when the scope ends. With the default (`[]`) the merge rules behave as documented.
enum MergeFaults {
    struct Kinds: OptionSet, Sendable {
        let rawValue: Int
        /// ``LWWRegister`` compares HLCs only: a write whose HLC equals the current winner's is
        /// treated as "not newer" and discarded, so ties go to whichever write arrived first.
        static let lwwNoReplicaTieBreak = Kinds(rawValue: 1 << 0)
        /// ``AddWinsSet`` removes win: a remove drops every add of the element the replica holds,
        /// observed or not (and not the adds that arrive later).
        static let removeWins = Kinds(rawValue: 1 << 1)
    }

    /// The faults in effect for the current task. Empty (correct merge) unless a test binds it.
    @TaskLocal static var active: Kinds = []
}
