import ArgumentParser
import Foundation
import SyncClientKit
import SyncModel
import SyncStore
import SyncWire

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the store: replica, counts, conflicts and sync state.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await guarded {
            let s = try store.open()
            let report = try StatusReport.make(s)
            if output.json { return try printJSON(report) }
            print("store    \(report.path)")
            print("replica  \(report.replica) (\(report.name))")
            print(
                "library  \(report.articles) articles, \(report.trashed) in the trash, \(report.collections) collections, \(report.annotations) annotations, \(report.tags) tags"
            )
            print("ops      \(report.ops) in the log, \(report.ownOps) made here")
            print("seen     \(report.versionVector.isEmpty ? "-" : report.versionVector)")
            print("conflicts \(report.conflicts)\(report.conflicts > 0 ? " (see `synccli conflicts`)" : "")")
            guard let remote = report.remote else { return print("remote   none (`synccli remote set` to sync through a server)") }
            print("remote   \(remote) library \(report.library ?? "")\(report.epoch.map { ", server epoch \($0)" } ?? "")")
            if report.pending == 0 {
                print("sync     all your work is on the server\(report.ackedAt.map { " as of \($0)" } ?? "")")
            } else {
                print("sync     \(report.pending) op(s) waiting to be pushed\(report.ackedAt.map { "; last acknowledged \($0)" } ?? "")")
            }
            print("last sync \(report.lastSync ?? "never")")
            if let error = report.lastError { print("last error \(error)") }
            print(
                "agent    \(report.agentPID.map { "running (pid \($0))" } ?? "not running (`synccli agent`, or see README: run it as a user service)")"
            )
        }
    }
}

struct StatusReport: Encodable {
    var path: String
    var replica: String
    var name: String
    var articles: Int
    var trashed: Int
    var collections: Int
    var annotations: Int
    var tags: Int
    var ops: Int
    var ownOps: UInt64
    var versionVector: String
    var conflicts: Int
    var remote: String?
    var library: String?
    var epoch: String?
    var acked: UInt64 = 0
    var pending: UInt64 = 0
    var ackedAt: String?
    var lastSync: String?
    var lastError: String?
    /// pid of the running `synccli agent`, if any.
    var agentPID: Int32?

    static func make(_ s: Store) throws -> StatusReport {
        let c = try s.counts()
        let vv = try s.versionVector()
        var report = StatusReport(
            path: s.path, replica: s.replica.description, name: try s.name(), articles: c["articles"] ?? 0,
            trashed: c["trashed"] ?? 0, collections: c["collections"] ?? 0, annotations: c["annotations"] ?? 0,
            tags: c["tags"] ?? 0, ops: c["ops"] ?? 0, ownOps: vv[s.replica], versionVector: vv.text,
            conflicts: try s.conflicts().count)
        report.agentPID = AgentPIDFile(store: s).running()
        let sync = try s.syncState()
        if let remote = sync.remote {
            report.remote = remote.url
            report.library = remote.library
            report.epoch = sync.epoch
            report.acked = sync.acked
            report.pending = report.ownOps - min(report.ownOps, report.acked)
            report.ackedAt = sync.ackedAt.map(TimeFormat.iso)
            report.lastSync = sync.lastSuccessAt.map(TimeFormat.iso)
            if let error = sync.lastError {
                report.lastError = sync.lastErrorAt.map { "\(TimeFormat.iso($0)): \(error)" } ?? error
            }
        }
        return report
    }
}
