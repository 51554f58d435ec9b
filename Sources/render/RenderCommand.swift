import Postroom
import PostroomCLI

/// `render`: jobs become the exact messages to send.
@main
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render jobs into finished MIME messages.",
        discussion: """
            Renders every job in the spool's expanded/new/ into outgoing/. With - or --filter, \
            renders the one message on standard input to standard output instead (a pipe on \
            standard input alone does not: cron gives every job one). See postroom-render(8).
            """)

    @OptionGroup var options: SpoolOptions

    @Option(
        name: .customLong("var"),
        help: ArgumentHelp("A template variable, winning over the request's (repeatable).", valueName: "name=value"))
    var variables: [String] = []

    @Flag(name: .customLong("allow-missing"), help: "Render values the data lacks as empty instead of failing the job.")
    var allowMissing = false

    @Flag(
        help: """
            Check each message as postroom lint does: errors fail the job into failed/ (exit 65 \
            with -), warnings go to the log (standard error with -).
            """)
    var lint = false

    @Option(
        name: .customLong("dkim"),
        help: ArgumentHelp(
            "With --lint: a DKIM key deliver signs with, DOMAIN:SELECTOR:KEYFILE (repeatable; default: the dkim key).",
            valueName: "spec"))
    var dkim: [String] = []

    @Flag(help: "Render the message on standard input to standard output (the same as -).")
    var filter = false

    @Flag(help: "Work on the spool (the default; accepted for older scripts).")
    var queue = false

    @Argument(help: ArgumentHelp("- to render standard input to standard output.", valueName: "-"))
    var input: String?

    @Option(help: "Render with this many threads (default: one per processor).")
    var workers: Int?

    func run() throws {
        try runReportingErrors("render") { () throws(PostroomError) in
            let configuration = try options.configuration()
            let renderer = try Renderer.configured(configuration, allowsMissing: allowMissing)
            var extra: [(name: String, value: String)] = []
            for text in variables { extra.append(try Request.variable(text)) }
            if let input, input != "-" {
                throw .usage("the only argument render takes is - (standard input), not \"\(input)\"")
            }
            guard !(queue && (filter || input != nil)) else { throw .usage("choose --queue or --filter (-)") }
            guard lint || dkim.isEmpty else { throw .usage("--dkim is only read with --lint") }
            let checks = lint ? try MessageLint.configured(configuration, dkim: dkim) : nil
            if filter || input == "-" {
                let message = try StandaloneRender.render(
                    try MessageFile.readStandardInput(), renderer: renderer, variables: extra)
                if let checks {
                    let warnings = try checks.enforce(on: message, source: "the rendered message")
                    if !warnings.isEmpty { printError("render: \(warnings)") }
                }
                OutputStream.writeAll(message.bytes, to: 1)
                return
            }
            let spool = try Spool.open(configuration.spool(flag: options.spool).root)
            let log = try SpoolLog(path: spool.logPath, program: "render")
            let stage = RenderStage(
                spool: spool, log: log, renderer: renderer, extraVariables: extra,
                limits: try MessageLimits.configured(configuration), lint: checks)
            if let workers {
                guard workers >= 1 else { throw .usage("--workers needs a number of threads, 1 or more") }
                stage.workers = workers
            }
            let bar = ProgressBar()
            stage.progress = { count in bar.update(count, label: "rendering") }
            let summary = try stage.run()
            bar.finish()
            var line = "rendered \(summary.rendered)"
            if summary.failed > 0 { line += ", \(summary.failed) failed (see failed/)" }
            if summary.alreadyRendered > 0 { line += ", \(summary.alreadyRendered) already rendered before a crash" }
            StandardStream.write(line + "\n", to: 1)
        }
    }
}
