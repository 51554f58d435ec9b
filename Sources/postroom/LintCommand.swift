import Postroom
import PostroomCLI

/// `postroom lint FILE|NAME...`: checks messages against the bulk-sender rules of large receivers.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check messages against what Gmail and Yahoo require of bulk mail.",
        discussion: """
            Prints one line per finding: FILE: error|warning: what (why, what to do). Exits 0 \
            when no message has an error (warnings alone do not count), 65 when one has, 66 when \
            a file or name cannot be found. A NAME is looked up in the spool's queues. With no \
            argument, checks standard input. See postroom(8).
            """)

    @OptionGroup var options: SpoolOptions

    @Option(
        name: .customLong("dkim"),
        help: ArgumentHelp(
            "A DKIM key deliver signs with, DOMAIN:SELECTOR:KEYFILE (repeatable; default: the dkim key).",
            valueName: "spec"))
    var dkim: [String] = []

    @Flag(help: "Print each finding as one JSON object per line.")
    var json = false

    @Argument(help: ArgumentHelp("Message files or spool message names; - for standard input.", valueName: "file"))
    var targets: [String] = []

    func run() throws {
        var status = Sysexit.ok
        try runReportingErrors("postroom lint") { () throws(PostroomError) in
            let configuration = try options.configuration()
            let lint = try MessageLint.configured(configuration, dkim: dkim)
            for target in targets.isEmpty ? ["-"] : targets {
                do throws(PostroomError) {
                    let path = try MessageTarget.path(of: target) { () throws(PostroomError) in try options.openSpool()
                    }
                    let bytes = path == "-" ? try MessageFile.readStandardInput() : try MessageFile.read(path)
                    let shown = path == "-" ? "(standard input)" : path
                    let findings = lint.check(bytes)
                    for finding in findings {
                        StandardStream.write(
                            (json ? finding.json(file: shown) : finding.line(file: shown)) + "\n", to: 1)
                    }
                    if findings.contains(where: { $0.severity == .error }), status == .ok { status = .dataError }
                } catch {
                    // The other targets are still checked; the exit code is the first failure's.
                    printError("postroom lint: \(error.description)")
                    if status == .ok { status = error.exitStatus }
                }
            }
        }
        if status != .ok { throw ExitCode(status.rawValue) }
    }
}
