import ArgumentParser
import SyncServerCommands

/// `syncserver`: the ArticleSync sync server and its admin commands. The commands live in
/// SyncServerCommands and the HTTP application in SyncServerKit, so that tests build the very
/// same application (`buildApplication`).
@main
struct App {
    static func main() async {
        await SyncServerCommand.main()
    }
}
