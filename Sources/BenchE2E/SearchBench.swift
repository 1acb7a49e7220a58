import BenchKit
import Foundation
import SyncModel
import SyncStore

// articlesync-bench search: full-text search on one store of N workload articles (default
// 10,000), no server. See BENCHMARKS.md, "Search speed".
//
//   swift build -c release --product articlesync-bench && .build/release/articlesync-bench search
//
// Options: --articles N (10000), --seed N (42), --workload FILE, --repeats N (30), --dir DIR (kept),
//          --json-out FILE
//
// Phases: the workload's base is imported (the index follows through its triggers); the whole
// search index is then rebuilt from the articles table alone (index build rate); each query is
// run `repeats` times (first 20 results with snippets, as `synccli search` does; median and p90);
// `repeats` title edits on distinct articles are timed (one transaction each, fsync included).

struct SearchBenchOptions {
    var articles = 10_000
    var seed = 42
    var workload: String?
    var repeats = 30
    var dir: String?
    var jsonOut: String?

    init(_ args: ArraySlice<String>) throws {
        var it = args.makeIterator()
        func value(_ name: String) throws -> String {
            guard let v = it.next() else { throw BenchError("\(name) needs a value") }
            return v
        }
        while let arg = it.next() {
            switch arg {
            case "--articles": articles = Int(try value(arg)) ?? articles
            case "--seed": seed = Int(try value(arg)) ?? seed
            case "--workload": workload = try value(arg)
            case "--repeats": repeats = max(1, Int(try value(arg)) ?? repeats)
            case "--dir": dir = try value(arg)
            case "--json-out": jsonOut = try value(arg)
            case "-h", "--help":
                print("usage: articlesync-bench search [--articles N] [--seed N] [--workload FILE] [--repeats N] [--dir DIR] [--json-out FILE]")
                exit(0)
            default: throw BenchError("unknown argument \(arg)")
            }
        }
    }
}

struct SearchBenchResult: Codable {
    struct Query: Codable {
        var query: String
        var hits: Int
        var medianMillis: Double
        var p90Millis: Double
        var firstSnippet: String
    }
    var articles: Int
    var textBytes: Int
    var importSeconds: Double
    var importOpsPerSecond: Double
    var indexBuildSeconds: Double
    var indexArticlesPerSecond: Double
    var indexMegabytesPerSecond: Double
    var queries: [Query]
    var titleEditMedianMillis: Double
    var storeBytes: Int
    var machine: [String: String]
}

enum SearchBench {
    static let queries = ["غزة", "مستشفى", "الأمم المتحدة", "\"قطاع غزة\"", "مقاوم*", "كلمةغيرموجودة"]

    static func run(_ options: SearchBenchOptions) throws {
        let root = BenchMain.repoRoot()
        let base = options.dir ?? NSTemporaryDirectory() + "articlesync-search-bench-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if options.dir == nil { try? FileManager.default.removeItem(atPath: base) } }

        let workloadPath = options.workload ?? base + "/workload-\(options.articles).json"
        if options.workload == nil {
            var env = ProcessInfo.processInfo.environment
            if env["SEED_ARTICLE"] == nil { env["SEED_ARTICLE"] = root + "/Tests/Fixtures/seed-article-ar.txt" }
            try BenchE2E_run(
                "/usr/bin/env",
                [
                    "python3", root + "/scripts/bench/workload.py", "--n", String(options.articles), "--seed", String(options.seed), "-o",
                    workloadPath,
                ],
                environment: env)
        }
        let workload = try Workload.load(from: URL(fileURLWithPath: workloadPath))
        let textBytes = workload.base.filter { $0.op == "article.create" }
            .reduce(0) { $0 + ($1.title ?? "").utf8.count + ($1.summary ?? "").utf8.count + ($1.body ?? "").utf8.count }
        let path = base + "/search.sqlite"
        let store = try Store.create(at: path, name: "search-bench")

        let importClock = Stopwatch()
        let report = try WorkloadReplay(workload).replayBase(on: store)
        let importSeconds = importClock.seconds
        let articles = report.articlesCreated
        BenchMain.log(
            String(
                format: "import: %d articles (%.1f MB of title+summary+body), %d ops in %.2f s = %.0f ops/s, %.0f articles/s",
                articles, Double(textBytes) / 1e6, report.ops, importSeconds, Double(report.ops) / importSeconds,
                Double(articles) / importSeconds))

        let indexClock = Stopwatch()
        try store.rebuildSearchIndex()
        let indexSeconds = indexClock.seconds
        BenchMain.log(
            String(
                format: "index build from the articles table: %.2f s = %.0f articles/s, %.1f MB/s of text",
                indexSeconds, Double(articles) / indexSeconds, Double(textBytes) / 1e6 / indexSeconds))

        var results: [SearchBenchResult.Query] = []
        for query in queries {
            var hits: [SearchHit] = []
            for _ in 0..<2 { hits = try store.search(query) }  // warm the page cache and statement cache
            var times: [Double] = []
            for _ in 0..<options.repeats {
                let c = Stopwatch()
                hits = try store.search(query)
                times.append(c.seconds * 1000)
            }
            let r = SearchBenchResult.Query(
                query: query, hits: hits.count, medianMillis: median(times), p90Millis: percentile(times, 0.9),
                firstSnippet: hits.first?.snippet ?? "")
            results.append(r)
            BenchMain.log(
                String(format: "search %@: %d hits, median %.2f ms, p90 %.2f ms", query, r.hits, r.medianMillis, r.p90Millis)
                    + (hits.first.map { "\n    first: \($0.title)\n    snippet: \($0.snippet)" } ?? ""))
        }

        var editTimes: [Double] = []
        for (i, a) in try store.listArticles(limit: options.repeats).enumerated() {
            let c = Stopwatch()
            try store.editArticle(a.id, [(ArticleFields.title, "عنوان معدّل \(i) عن غزة")])
            editTimes.append(c.seconds * 1000)
        }
        BenchMain.log(String(format: "title edit (one transaction each): median %.2f ms, p90 %.2f ms", median(editTimes), percentile(editTimes, 0.9)))

        var machine: [String: String] = ["cpus": String(ProcessInfo.processInfo.activeProcessorCount)]
        if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            machine["loadavg_end"] = load.trimmingCharacters(in: .whitespacesAndNewlines)
            BenchMain.log("load average at the end: \(machine["loadavg_end"]!)")
        }
        let result = SearchBenchResult(
            articles: articles, textBytes: textBytes, importSeconds: importSeconds,
            importOpsPerSecond: Double(report.ops) / importSeconds, indexBuildSeconds: indexSeconds,
            indexArticlesPerSecond: Double(articles) / indexSeconds, indexMegabytesPerSecond: Double(textBytes) / 1e6 / indexSeconds,
            queries: results, titleEditMedianMillis: median(editTimes), storeBytes: storeBytes(path), machine: machine)
        BenchMain.log(String(format: "store on disk: %.1f MB", Double(result.storeBytes) / 1e6))
        if let out = options.jsonOut {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: out))
            BenchMain.log("wrote \(out)")
        }
    }
}
