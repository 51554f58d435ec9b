import Postroom
import PostroomCLI

/// `deliver`: finished messages go to the next mail server.
@main
struct DeliverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Send messages from outgoing/ (and due ones from deferred/) to a mail server.",
        discussion: """
            The transport must be chosen: --smtp, --sendmail, --maildir (a local maildir, to try \
            postroom out), or 'transport' in postroom.conf. See postroom-deliver(8).
            """)

    @OptionGroup var options: SpoolOptions

    @Option(help: ArgumentHelp("The relay: smtp://host:port or smtps://host:port.", valueName: "url"))
    var smtp: String?

    @Option(
        help: ArgumentHelp("Pipe each message into this sendmail-compatible program instead.", valueName: "program"))
    var sendmail: String?

    @Option(help: ArgumentHelp("Deliver into this local maildir instead (trying postroom out).", valueName: "dir"))
    var maildir: String?

    @Option(help: ArgumentHelp("STARTTLS on smtp:// URLs: required, opportunistic or off.", valueName: "policy"))
    var tls = "opportunistic"

    @Option(help: ArgumentHelp("AUTH user name.", valueName: "name"))
    var user: String?

    @Option(
        name: .customLong("password-file"),
        help: ArgumentHelp("AUTH password, in a file only its owner can read.", valueName: "file"))
    var passwordFile: String?

    @Option(
        name: .customLong("ca-file"),
        help: ArgumentHelp("Trust this CA bundle (a private or self-signed certificate).", valueName: "file"))
    var caFile: String?

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a connection.")
    var connectTimeout = 30

    @Option(name: .customLong("reply-timeout"), help: "Seconds to wait for each server reply.")
    var replyTimeout = 300

    @Option(name: .customLong("timeout"), help: "Seconds one message may take in all.")
    var timeout = 600

    @Option(
        name: .customLong("message-size-limit"),
        help: ArgumentHelp(
            "Fail messages larger than this many bytes, unsent (0: no limit; default: message_size_limit in postroom.conf).",
            valueName: "bytes"))
    var messageSizeLimit: String?

    @Option(help: "Connections to the relay used at once.")
    var connections = 1

    @Option(name: .customLong("max-messages"), help: "Send at most this many messages in the pass.")
    var maxMessages: Int?

    @Option(
        help: ArgumentHelp(
            "Send at most this many messages per second, over all connections (10/s or 10).", valueName: "n/s"))
    var rate: String?

    @Option(
        name: .customLong("sync-every"),
        help: ArgumentHelp(
            "Sync sent/ once per this many messages of a connection (a power cut may send that many again).",
            valueName: "n"))
    var syncEvery = 64

    @Option(
        name: .customLong("retain-sent"),
        help: ArgumentHelp(
            "After the pass, remove records older than this from sent/ (30d, 12h).", valueName: "duration"))
    var retainSent: String?

    @Flag(
        name: .customLong("failure-reports"),
        help: "Send an RFC 3464 failure report to the sender of each message that fails for good.")
    var failureReports = false

    @Option(
        name: .customLong("bounce-address"),
        help: ArgumentHelp(
            "Envelope sender for messages that name none (default: bounce_address in postroom.conf, else From).",
            valueName: "address"))
    var bounceAddress: String?

    @Option(
        help: ArgumentHelp(
            "Also send each message to this address in the same transaction (never in the header), "
                + "for mark --loopback (default: loopback_address in postroom.conf).",
            valueName: "address"))
    var loopback: String?

    @Flag(help: "Send messages from the bounce address as bounces+NAME@domain, NAME their spool name (verp = yes).")
    var verp = false

    @Option(
        help: ArgumentHelp(
            "Sign with this DKIM key, DOMAIN:SELECTOR:KEYFILE (repeatable; default: dkim in postroom.conf).",
            valueName: "key"))
    var dkim: [String] = []

    @Option(
        name: .customLong("dkim-canonicalization"),
        help: ArgumentHelp(
            "DKIM canonicalisation, HEADER/BODY of relaxed and simple "
                + "(default: dkim_canonicalization in postroom.conf, else relaxed/relaxed).",
            valueName: "header/body"))
    var dkimCanonicalization: String?

    @Option(
        name: .customLong("healthcheck-url"),
        help: ArgumentHelp("Request this URL after each pass (a monitoring ping).", valueName: "url"))
    var healthcheckURL: String?

    @Option(name: .customLong("healthcheck-method"), help: "GET, POST (the pass summary as body) or HEAD.")
    var healthcheckMethod = "GET"

    @Option(name: .customLong("healthcheck-status"), help: "The HTTP status that counts as success (default: any 2xx).")
    var healthcheckStatus: Int?

    @Option(name: .customLong("healthcheck-timeout"), help: "Seconds the ping may take.")
    var healthcheckTimeout = 10

    @Option(
        name: .customLong("healthcheck-report"),
        help: ArgumentHelp(
            "How a failed pass shows: fail (URL/fail), exit-status (URL/75) or uptime-kuma (status=down).",
            valueName: "style"))
    var healthcheckReport = "fail"

    @Flag(help: "Drain what is due and exit (the default; for cron).")
    var once = false

    @Flag(help: "Keep running: wake when messages arrive or come due, or every --interval seconds.")
    var watch = false

    @Option(help: "With --watch: the longest sleep between passes, in seconds.")
    var interval = 60

    @Option(
        name: .customLong("dry-run"),
        help: ArgumentHelp(
            "Print what a server would receive for this message file or spool name (- for standard input); "
                + "send nothing.",
            valueName: "file|name"))
    var dryRun: String?

    func run() throws {
        try runReportingErrors("deliver") { () throws(PostroomError) in
            // Checked once here: a bad one would otherwise fail every message that needs it.
            for (option, address) in [("--bounce-address", bounceAddress), ("--loopback", loopback)] {
                if let address, let problem = Envelope.problem(in: address) {
                    throw .usage("\(option) \"\(address)\" is not an address SMTP can carry: \(problem)")
                }
            }
            let configuration = try options.configuration()
            let envelopes = try SendingEnvelope(
                bounceAddress: bounceAddress, verp: verp, loopback: loopback, configuration: configuration)
            // Loaded before anything is sent: a key others can read or that does not parse stops here (78).
            let signer = try DKIMSigner.configured(
                flags: dkim, canonicalization: dkimCanonicalization, configuration: configuration)
            if let dryRun {
                // A file, or a message's name in the spool, as postroom lint takes them.
                let path = try MessageTarget.path(of: dryRun) { () throws(PostroomError) in
                    try Spool.open(configuration.spool(flag: options.spool).root)
                }
                let bytes = path == "-" ? try MessageFile.readStandardInput() : try MessageFile.read(path)
                // A spool file's name is its file name; standard input has only its Message-ID.
                let run = try DryRun(
                    bytes: bytes, source: path == "-" ? "standard input" : path,
                    name: path == "-" ? nil : MessageName(fileName: FileSystem.baseName(path)),
                    envelopes: envelopes, signer: signer, timestamp: Timestamp.now().seconds)
                OutputStream.writeAll(run.transcript, to: 1)
                for warning in run.warnings { printError("deliver --dry-run: warning: \(warning)") }
                return
            }
            let spool = try Spool.open(configuration.spool(flag: options.spool).root)
            try checkNumbers()
            guard let report = HealthCheck.Report(rawValue: healthcheckReport) else {
                let styles = HealthCheck.Report.allCases.map(\.rawValue).joined(separator: ", ")
                throw .usage("--healthcheck-report must be one of \(styles), not \"\(healthcheckReport)\"")
            }
            let healthCheck = try healthcheckURL.map { (url) throws(PostroomError) in
                try HealthCheck(
                    url: url, method: healthcheckMethod, expectedStatus: healthcheckStatus, timeout: healthcheckTimeout,
                    report: report)
            }
            let makeTransport = try transportFactory(configuration: configuration)
            _ = try makeTransport().close()  // check the settings before touching the queue
            let log = try SpoolLog(path: spool.logPath, program: "deliver")
            let stage = DeliverStage(spool: spool, log: log, makeTransport: makeTransport)
            stage.connections = connections
            guard syncEvery >= 1 else { throw .usage("--sync-every needs a number of messages, 1 or more") }
            stage.sentSyncInterval = syncEvery
            stage.limits = try MessageLimits.configured(configuration, messageSizeFlag: messageSizeLimit)
            stage.bouncePolicy = try BounceHistory.Policy(configuration: configuration)
            stage.failureReports = failureReports
            stage.dkim = signer
            if let rate {
                // At least one a day, so the pause between sends stays a number of seconds.
                guard let value = Double(rate.hasSuffix("/s") ? String(rate.dropLast(2)) : rate),
                    value.isFinite, value >= 1.0 / 86_400
                else {
                    throw .usage("--rate needs messages per second (at least 1/86400), such as 10/s, not \"\(rate)\"")
                }
                stage.rate = value
            }
            let retention = try retainSent.map { (text) throws(PostroomError) in try DurationText.seconds(text) }
            stage.envelopes = envelopes
            stage.maximumMessages = maxMessages
            guard !(watch && once) else { throw .usage("choose --once or --watch") }
            let watcher = watch ? try QueueWatcher(spool: spool) : nil
            while true {
                watcher?.discardArrivals()
                let summary = try stage.run()
                if let retention { try stage.pruneSent(olderThan: retention) }
                var line = "sent \(summary.sent), deferred \(summary.deferred), failed \(summary.failed)"
                if let reason = summary.stoppedEarly { line += "; stopped early: \(reason)" }
                let passStatus = summary.stoppedEarly == nil ? Sysexit.ok : .tempFail
                if let healthCheck, let problem = healthCheck.ping(summary: line, exitStatus: passStatus.rawValue) {
                    log.record(
                        nil, ["url": healthCheck.url], status: "warning", detail: "health check failed: \(problem)")
                }
                guard let watcher else {
                    StandardStream.write(line + "\n", to: 1)
                    if let reason = summary.stoppedEarly {
                        throw .temporary("the relay could not be reached (\(reason))")
                    }
                    return
                }
                // With the relay down, wait the whole interval, whatever arrives, instead of
                // deferring the queue one stopped pass after another.
                if summary.stoppedEarly != nil {
                    watcher.wait(seconds: interval, wakingOnArrival: false)
                } else {
                    watcher.wait(seconds: min(interval, watcher.secondsUntilNextDue() ?? interval))
                }
            }
        }
    }

    /// Numbers from the command line, kept in ranges where no later arithmetic on them can overflow.
    private func checkNumbers() throws(PostroomError) {
        try checkRange("--connections", connections, 1...256)
        try checkRange("--connect-timeout", connectTimeout, 1...86_400)
        try checkRange("--reply-timeout", replyTimeout, 1...86_400)
        try checkRange("--timeout", timeout, 1...86_400)
        try checkRange("--healthcheck-timeout", healthcheckTimeout, 1...3_600)
        try checkRange("--interval", interval, 1...604_800)
        if let maxMessages { try checkRange("--max-messages", maxMessages, 0...Int.max) }
    }

    private func transportFactory(
        configuration: Configuration
    ) throws(PostroomError) -> @Sendable () throws(PostroomError) -> Transport {
        let choice = try TransportChoice.choose(
            smtp: smtp, sendmail: sendmail, maildir: maildir, configuration: configuration)
        let relay: String
        switch choice {
        case .sendmail(let program):
            return { () throws(PostroomError) in try SendmailTransport(program: program) }
        case .maildir(let path):
            return { () throws(PostroomError) in try MaildirTransport(path: path) }
        case .smtp(let url): relay = url
        }
        guard let policy = SMTPTransport.TLSPolicy(rawValue: tls) else {
            throw .usage("--tls must be required, opportunistic or off, not \"\(tls)\"")
        }
        var settings = SMTPTransport.Settings(url: relay)
        settings.tls = policy
        settings.username = user
        settings.caFile = caFile
        settings.connectTimeout = connectTimeout
        settings.overallTimeout = timeout
        settings.responseTimeout = replyTimeout
        if let passwordFile {
            guard user != nil else { throw .usage("--password-file needs --user") }
            settings.password = String(
                decoding: try SecretFile.read(passwordFile, purpose: "SMTP password"), as: UTF8.self)
        }
        let chosen = settings
        return { () throws(PostroomError) in try SMTPTransport(settings: chosen) }
    }
}
