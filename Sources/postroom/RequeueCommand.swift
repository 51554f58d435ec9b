import Postroom
import PostroomCLI

/// `postroom requeue NAME...`: deferred, failed or held messages back to `outgoing/`, as new.
struct RequeueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requeue",
        abstract: "Send messages from deferred/, failed/ or held/ again, with the attempt count and last error reset.",
        discussion: """
            The rewritten file replaces the old one in one rename into outgoing/new. Exit status: \
            the highest among the names. See postroom(8).
            """)

    @OptionGroup var options: QueueActionOptions

    func run() throws { try options.run(.requeue) }
}
