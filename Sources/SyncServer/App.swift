import SyncServerKit

/// `syncserver`: the ArticleSync sync server and its admin commands. Everything lives in
/// SyncServerKit so that tests build the very same application (`buildApplication`).
@main
struct App {
    static func main() async {
        await SyncServerCommand.main()
    }
}
