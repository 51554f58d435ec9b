import Postroom
import PostroomCLI

/// `postroom list [QUEUE...]`: one line per message, streamed.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List queued messages: name, queue, state, age, size, recipient, and why each waits.",
        discussion: """
            Without QUEUE: outgoing, deferred, held and failed, the queues an operator acts on. \
            Directories are streamed, so a large queue costs no memory. See postroom(8).
            """)

    @Argument(
        help: ArgumentHelp(
            "request, expanded, outgoing, deferred, sent, failed or held (default: outgoing deferred held failed).",
            valueName: "queue"))
    var queues: [String] = []

    @Flag(help: "Print one JSON object per line (for jq).")
    var json = false

    @OptionGroup var options: SpoolOptions

    func run() throws {
        try runReportingErrors("postroom list") { () throws(PostroomError) in
            var chosen: [Spool.Queue] = []
            for text in queues {
                guard let queue = Spool.Queue(rawValue: text) else {
                    let known = Spool.Queue.allCases.map(\.rawValue).joined(separator: ", ")
                    throw .usage("no queue \"\(text)\"; the queues are \(known)")
                }
                if !chosen.contains(queue) { chosen.append(queue) }
            }
            let spool = try options.openSpool()
            let now = Timestamp.now().seconds
            try QueueListing.forEach(in: spool, queues: chosen.isEmpty ? QueueListing.defaultQueues : chosen, now: now)
            {
                entry in
                StandardStream.write((json ? entry.json(now: now) : entry.text(now: now)) + "\n", to: 1)
            }
        }
    }
}
