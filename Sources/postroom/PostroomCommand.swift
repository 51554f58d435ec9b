import PostroomCLI

/// `postroom`: the front command for operators.
@main
struct PostroomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postroom",
        abstract: "Mail for web applications through maildir spools.",
        discussion: """
            The stages (expand, render, route, deliver, mark, and verify, which route runs) are separate programs in \
            libexec/postroom; this command sets up, inspects and manages the spool. See postroom(7).
            """,
        subcommands: [
            InitCommand.self, StatusCommand.self, SubmitCommand.self, InspectCommand.self, SuppressCommand.self,
            ListCommand.self, HoldCommand.self, ReleaseCommand.self, RequeueCommand.self, DeleteCommand.self,
            DKIMKeygenCommand.self, LintCommand.self,
        ]
    )
}
