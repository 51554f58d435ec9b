import Postroom
import PostroomCLI

/// `postroom status`: per-queue counts and ages, and sent messages still unconfirmed.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how many messages each queue holds and how old the oldest is.")

    @OptionGroup var options: SpoolOptions

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Option(
        name: .customLong("unconfirmed-after"),
        help: ArgumentHelp(
            "Also list sent messages whose loopback copy has not come back after this long (1h, 30m).",
            valueName: "duration"))
    var unconfirmedAfter: String?

    func run() throws {
        try runReportingErrors("postroom status") { () throws(PostroomError) in
            let threshold = try unconfirmedAfter.map { (text) throws(PostroomError) in try DurationText.seconds(text) }
            let status = try SpoolStatus.measure(try options.openSpool(), unconfirmedAfter: threshold)
            StandardStream.write(json ? status.json : status.text, to: 1)
        }
    }
}
