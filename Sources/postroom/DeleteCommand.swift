import Postroom
import PostroomCLI

/// `postroom delete NAME...`: removes messages from whichever queue holds them.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete messages from the spool, whichever queue holds them.",
        discussion: """
            A message a running worker has claimed is not deleted (exit 75). Exit status: the \
            highest among the names. See postroom(8).
            """)

    @OptionGroup var options: QueueActionOptions

    func run() throws { try options.run(.delete) }
}
