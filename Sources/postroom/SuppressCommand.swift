import Postroom
import PostroomCLI

/// `postroom suppress add|remove|list|check`: manages the spool's `suppress` file.
struct SuppressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suppress",
        abstract: "Manage the addresses that must not be mailed (the spool's suppress file).",
        discussion: """
            An entry applies to all mail, or with --list to one list's copies only. Changes are \
            made under a lock with one rename, so two programs never lose each other's lines; a hand \
            edit saved while a program changes the file may be lost. See \
            postroom(8) and postroom-mark(8).
            """,
        subcommands: [Add.self, Remove.self, List.self, Check.self])

    /// `--list LIST`, shared by the subcommands.
    struct Scope: ParsableArguments {
        @Option(name: .customLong("list"), help: ArgumentHelp("Only for this list's copies.", valueName: "list"))
        var list: String?
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suppress an address (for all mail, or with --list for one list).")
        @OptionGroup var options: SpoolOptions
        @OptionGroup var scope: Scope
        @Option(help: ArgumentHelp("Why, kept in the file after the date.", valueName: "text"))
        var reason: String?
        @Argument(help: ArgumentHelp("The address.", valueName: "address"))
        var address: String

        func run() throws {
            try runReportingErrors("postroom suppress add") { () throws(PostroomError) in
                let commands = SuppressionCommands(spool: try options.openSpool())
                StandardStream.write(try commands.add(address, list: scope.list, reason: reason), to: 1)
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an address's entries (with --list, only the one for that list).")
        @OptionGroup var options: SpoolOptions
        @OptionGroup var scope: Scope
        @Argument(help: ArgumentHelp("The address.", valueName: "address"))
        var address: String

        func run() throws {
            try runReportingErrors("postroom suppress remove") { () throws(PostroomError) in
                let commands = SuppressionCommands(spool: try options.openSpool())
                StandardStream.write(try commands.remove(address, list: scope.list), to: 1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the entries (with --list, those that apply to that list's copies).")
        @OptionGroup var options: SpoolOptions
        @OptionGroup var scope: Scope
        @Flag(help: "Print a JSON array of {address, list, note} objects.")
        var json = false

        func run() throws {
            try runReportingErrors("postroom suppress list") { () throws(PostroomError) in
                let commands = SuppressionCommands(spool: try options.openSpool())
                StandardStream.write(try commands.list(scope: scope.list, json: json), to: 1)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit 0 if an address is suppressed (for bulk mail, or with --list for that list), 1 if not.",
            discussion: "Prints the entries that suppress it, like grep prints the lines it matched.")
        @OptionGroup var options: SpoolOptions
        @OptionGroup var scope: Scope
        @Argument(help: ArgumentHelp("The address.", valueName: "address"))
        var address: String

        func run() throws {
            var suppressed = false
            try runReportingErrors("postroom suppress check") { () throws(PostroomError) in
                let entries = try SuppressionCommands(spool: try options.openSpool()).check(address, list: scope.list)
                suppressed = !entries.isEmpty
                let scope = scope.list.map { " for \($0)" } ?? ""
                StandardStream.write(
                    suppressed
                        ? entries.map { "\(address) is suppressed\(scope): \($0.line)\n" }.joined()
                        : "\(address) is not suppressed\(scope)\n", to: 1)
            }
            if !suppressed { throw ExitCode(1) }
        }
    }
}
