import Postroom
import PostroomCLI

/// `expand`: requests become one job per envelope recipient.
@main
struct ExpandCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract: "Fan requests out into one job per envelope recipient.",
        discussion: """
            Without --recipients, expands every request in the spool's request/new/. With \
            --recipients, submits the template on standard input as a request and expands it \
            at once (or, with --stdout, writes the jobs to standard output as an mbox stream). \
            See postroom-expand(8).
            """)

    @OptionGroup var request: RequestOptions
    @OptionGroup var options: SpoolOptions

    @Flag(help: "With --recipients: write the jobs as an mbox stream to standard output, not into the spool.")
    var stdout = false

    func run() throws {
        try runReportingErrors("expand") { () throws(PostroomError) in
            if stdout {
                guard request.recipients != nil else {
                    throw .usage("--stdout needs --recipients and a template on standard input")
                }
                guard request.attachments.isEmpty else {
                    throw .usage("--stdout cannot carry --attach; submit into the spool instead")
                }
                try JobStream.write(
                    try request.request(), suppression: SuppressionList(text: ""),
                    log: SpoolLog(path: nil, program: "expand"))
                return
            }
            let configuration = try options.configuration()
            let spool = try Spool.open(configuration.spool(flag: options.spool).root)
            let log = try SpoolLog(path: spool.logPath, program: "expand")
            let expander = try Expander(spool: spool, log: log)
            expander.limits = try MessageLimits.configured(configuration)
            let bar = ProgressBar()
            expander.progress = { count, name in bar.update(count, label: "expanding \(name)") }
            var summaries: [Expander.Summary] = []
            if request.recipients != nil {
                let name = try expander.submit(try request.request())
                if let claim = try spool.maildir(.request).claim(name.fileName),
                    let summary = try expander.expand(claim)
                {
                    summaries.append(summary)
                }
                // Submitted and expanded: a failing exit now would make the caller submit it again.
                log.syncReportingFailure()
            } else {
                summaries = try expander.run()
            }
            bar.finish()
            for summary in summaries { StandardStream.write("\(summary.request): \(summary)\n", to: 1) }
            // The others were expanded; a request moved to failed/ is still an error for whoever submitted it.
            if let first = expander.rejected.first {
                let more = expander.rejected.count > 1 ? " (and \(expander.rejected.count - 1) more)" : ""
                throw .malformed(
                    what: "request", location: first.request,
                    reason: "moved to failed/\(more): \(first.reason)")
            }
        }
    }
}
