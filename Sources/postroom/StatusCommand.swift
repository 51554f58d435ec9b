import Postroom
import PostroomCLI

/// `postroom status`: per-queue counts and ages.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how many messages each queue holds and how old the oldest is.")

    @OptionGroup var options: SpoolOptions

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        try runReportingErrors("postroom status") { () throws(PostroomError) in
            let status = try SpoolStatus.measure(try options.openSpool())
            StandardStream.write(json ? status.json : status.text, to: 1)
        }
    }
}
