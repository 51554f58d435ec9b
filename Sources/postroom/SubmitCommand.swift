import Postroom
import PostroomCLI

/// `postroom submit`: writes a self-contained request into `request/new/`.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a templated message and a recipient list as one request.",
        discussion: """
            Reads the template (an RFC 5322 message in Django template syntax) from standard \
            input, copies the recipient list and attachments into the request, and prints \
            the request's name. See postroom(7) for the request format.
            """)

    @OptionGroup var request: RequestOptions
    @OptionGroup var options: SpoolOptions

    func run() throws {
        try runReportingErrors("postroom submit") { () throws(PostroomError) in
            let configuration = try options.configuration()
            let spool = try Spool.open(configuration.spool(flag: options.spool).root)
            let log = try SpoolLog(path: spool.logPath, program: "submit", echo: false)
            let expander = try Expander(spool: spool, log: log)
            expander.limits = try MessageLimits.configured(configuration)
            let name = try expander.submit(try request.request())
            // The request is durable: a failing exit now would make the application submit it again.
            log.syncReportingFailure()
            StandardStream.write(name.fileName + "\n", to: 1)
        }
    }
}
