import Postroom
import PostroomCLI

/// `postroom hold NAME...`: outgoing or deferred messages into `held/`.
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Put messages from outgoing/ or deferred/ on hold (into held/, where nothing sends or expires them).",
        discussion: """
            Each move is one rename. A message a running deliver has claimed is not moved (exit 75). \
            Exit status: the highest among the names (65 a bad name, 66 not found, 75 claimed). See postroom(8).
            """)

    @OptionGroup var options: QueueActionOptions

    func run() throws { try options.run(.hold) }
}
