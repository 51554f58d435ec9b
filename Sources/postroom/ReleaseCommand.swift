import Postroom
import PostroomCLI

/// `postroom release NAME...`: held messages go on.
struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release held messages: a post held for a list goes to its members, anything else to outgoing/.",
        discussion: """
            A post route held for a list is routed again through the list's rule with the posting \
            policy skipped; each copy is made exactly once, even if the release is stopped and run \
            again. Exit status: the highest among the names. See postroom(8).
            """)

    @OptionGroup var options: QueueActionOptions

    @Option(
        help: ArgumentHelp(
            "The rule table, for posts held for a list (default: 'rules' in postroom.conf, $POSTROOM_RULES).",
            valueName: "file"))
    var rules: String?

    func run() throws { try options.run(.release, rules: rules) }
}
