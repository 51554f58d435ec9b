import Glibc

/// `route`, the MTA's pipe command: options, environment, and the exit code.
///
/// Argument parsing is written out here rather than with ArgumentParser, which brings
/// Foundation and its start-up cost into a program that runs once per incoming message.
public struct RouteCommand {
    /// What the command was asked to do.
    public enum Mode: Equatable, Sendable {
        /// Route the message on standard input.
        case route
        /// Validate the rule table.
        case check
        /// Show, writing nothing, what would happen to mail for an address.
        case explain(String)
        /// Print the usage.
        case help
    }

    /// The mode.
    public var mode = Mode.route
    /// `--spool`.
    public var spool: String?
    /// `--config`.
    public var config: String?
    /// `--rules`.
    public var rules: String?
    /// The envelope recipient (`--recipient` or the MTA's environment).
    public var recipient: String?
    /// The envelope sender (`--sender` or `SENDER`); empty is the null sender.
    public var sender: String?

    /// The router of the run, kept until the process exits: freeing a compiled table costs more
    /// than routing one message did, and the process ends right after.
    nonisolated(unsafe) private static var retainedUntilExit: Router?

    /// The usage text.
    public static let usage = """
        usage: route [--spool DIR] [--config FILE] [--rules FILE] [--recipient ADDR] [--sender ADDR] < message
               route --check [--rules FILE] [--config FILE] [--spool DIR]
               route --explain ADDR [--sender ADDR] [--rules FILE] [--config FILE] [--spool DIR]
        Routes one incoming message through the rule table (see postroom-route(8)).
        Exit: 0 done, 65 not a message, 67 no such address, 77 refused by policy, 75 try again later.

        """

    /// Parses `arguments` (without the program name), taking the envelope from `environment` where
    /// the options do not give it: Exim's pipe sets RECIPIENT (or LOCAL_PART, LOCAL_PART_SUFFIX and
    /// DOMAIN) and SENDER; Postfix's local(8) sets RECIPIENT, ORIGINAL_RECIPIENT and SENDER.
    public init(arguments: [String], environment: [String: String]) throws(PostroomError) {
        var options = OptionScanner(arguments)
        while let option = options.next() {
            switch option {
            case "--spool": spool = try options.value()
            case "--config": config = try options.value()
            case "--rules": rules = try options.value()
            case "--recipient": recipient = try options.value()
            case "--sender": sender = try options.value()
            case "--check": mode = .check
            case "--explain": mode = .explain(try options.value())
            case "-h", "--help": mode = .help
            default: throw options.unknown
            }
        }
        if recipient == nil {
            recipient = Self.recipient(from: environment)
        }
        if sender == nil { sender = environment["SENDER"] }
    }

    /// The envelope recipient an MTA put in the environment.
    static func recipient(from environment: [String: String]) -> String? {
        if let recipient = environment["RECIPIENT"], !recipient.isEmpty { return recipient }
        if let local = environment["LOCAL_PART"], let domain = environment["DOMAIN"], !local.isEmpty {
            let prefix = environment["LOCAL_PART_PREFIX"] ?? ""
            let suffix = environment["LOCAL_PART_SUFFIX"] ?? ""
            return "\(prefix)\(local)\(suffix)@\(domain)"
        }
        if let original = environment["ORIGINAL_RECIPIENT"], !original.isEmpty { return original }
        return nil
    }

    /// Runs the command with the process's arguments, environment and standard streams; returns
    /// the exit status.
    public static func main(arguments: [String], environment: [String: String]) -> Int32 {
        let command: RouteCommand
        do {
            command = try RouteCommand(arguments: arguments, environment: environment)
        } catch {
            // An MTA that calls route wrongly is the site's mistake: the mail must wait, not bounce.
            return report(error.description + "\n" + usage, status: .tempFail)
        }
        switch command.mode {
        case .help:
            OutputStream.writeAll(Array(usage.utf8), to: 1)
            return 0
        case .check: return command.check(environment: environment)
        case .explain(let address): return command.explain(address, environment: environment)
        case .route: return command.routeStandardInput(environment: environment).rawValue
        }
    }

    private static func report(_ text: String, status: Sysexit) -> Int32 {
        OutputStream.writeAll(Array(("route: " + text + (text.hasSuffix("\n") ? "" : "\n")).utf8), to: 2)
        return status.rawValue
    }

    /// Loads the configuration, spool and table; each failure is a local one.
    private func setUp(
        recipient: String, environment: [String: String]
    ) throws(PostroomError) -> (
        Configuration, Spool, Router
    ) {
        let configuration = try Configuration(path: config, environment: environment)
        if let problem = Router.settingsProblem(configuration) {
            throw .configuration(location: configuration.path, reason: problem)
        }
        let spool = configuration.spool(flag: spool)
        try spool.validate()
        guard let rulesPath = configuration.value(Configuration.rules, flag: rules) else {
            throw .configuration(
                location: configuration.path, reason: "no rule table: set 'rules' in postroom.conf or pass --rules")
        }
        let context = RouteContext(spool: spool, configuration: configuration, recipient: recipient)
        return (configuration, spool, Router(table: try RuleTable(path: rulesPath, context: context), context: context))
    }

    /// Routes standard input; every error that is not about the message itself is a 75.
    func routeStandardInput(environment: [String: String]) -> Sysexit {
        guard let recipient, !recipient.isEmpty else {
            return Sysexit(
                rawValue: Self.report(
                    "no envelope recipient: pass --recipient or run from an MTA that sets RECIPIENT",
                    status: .tempFail))
                ?? .tempFail
        }
        let spool: Spool
        let router: Router
        let limits: MessageLimits
        let input: (bytes: [UInt8], total: Int)
        do {
            let configuration: Configuration
            (configuration, spool, router) = try setUp(recipient: recipient, environment: environment)
            Self.retainedUntilExit = router
            limits = try MessageLimits.configured(configuration)
            // Memory stays bounded whatever arrives: past the limit (and a margin for the line
            // endings an MTA may add) the rest is discarded and the message refused below.
            let keep = limits.messageSize.map { $0 > Int.max / 2 ? Int.max : $0 + $0 / 8 + 65536 } ?? Int.max
            input = try MessageFile.readStandardInput(keepingAtMost: keep)
        } catch {
            return Sysexit(rawValue: Self.report(error.description, status: .tempFail)) ?? .tempFail
        }
        let message: IncomingMessage
        do throws(PostroomError) {
            if input.total > input.bytes.count, let limit = limits.messageSize {
                throw .malformed(
                    what: "message", location: "standard input",
                    reason: "the message has \(input.total) bytes, over message_size_limit (\(limit))")
            }
            message = try IncomingMessage(
                bytes: input.bytes, recipient: recipient, sender: try Self.envelopeSender(sender), limits: limits)
        } catch {
            let status: Sysexit = error.exitStatus == .dataError ? .dataError : .tempFail
            return Sysexit(rawValue: Self.report(error.description, status: status)) ?? status
        }
        var openedLog: SpoolLog?
        do {
            let log = try SpoolLog(path: spool.logPath, program: "route", echo: false)
            openedLog = log
            let outcome = try router.route(message, log: log)
            switch outcome {
            case .delivered(let result, let rule, let summary):
                log.record(
                    nil,
                    [
                        "to": "<\(recipient)>", "from": "<\(message.sender ?? "")>", "rule": "\(rule)",
                        "copies": "\(result.published.count)",
                    ],
                    // A post a list's policy holds is "held", as the operator's hold is.
                    status: result.published.contains { $0.directory == spool.maildir(.held).path } ? "held" : "routed",
                    detail: Self.detail(result, summary: summary))
                // The copies' queues and the log, in one wait: only then are the copies durable.
                try log.sync(together: result.unsyncedQueues)
                return .ok
            case .dropped(let reason):
                log.record(
                    nil, ["to": "<\(recipient)>", "from": "<\(message.sender ?? "")>"], status: "dropped",
                    detail: reason, echo: true)
            case .recorded(let result, let rule) where result.status == .ok:
                log.record(
                    nil, ["to": "<\(recipient)>", "from": "<\(message.sender ?? "")>", "rule": "\(rule)"],
                    status: "marked", detail: result.detail)
            case .recorded(let result, _):
                log.record(
                    nil, ["to": "<\(recipient)>", "from": "<\(message.sender ?? "")>"], status: "refused",
                    detail: result.detail)
                try log.sync()
                return Sysexit(rawValue: Self.report(result.detail, status: result.status)) ?? result.status
            case .refused(_, let text), .noRule(let text):
                log.record(
                    nil, ["to": "<\(recipient)>", "from": "<\(message.sender ?? "")>"], status: "refused",
                    detail: text)
                try log.sync()
                return Sysexit(rawValue: Self.report(text, status: outcome.exitStatus)) ?? outcome.exitStatus
            }
            try log.sync()
            return .ok
        } catch {
            // The MTA keeps the message and retries; the spool's log says why, when it can be written.
            openedLog?.record(
                nil, ["to": "<\(recipient)>", "from": "<\(message.sender ?? "")>"], status: "deferred",
                detail: error.description)
            try? openedLog?.sync()
            return Sysexit(rawValue: Self.report(error.description, status: .tempFail)) ?? .tempFail
        }
    }

    /// The log's words for a routed message: a retry that found its copies all published was an
    /// MTA retry, one that published some finished a run that was interrupted.
    private static func detail(_ result: FanOut.Result, summary: String) -> String {
        guard result.wasCommittedBefore else { return summary }
        return result.published.isEmpty ? "routed before (an MTA retry)" : "finished an interrupted run"
    }

    /// The sender as the MTA gave it: empty or Postfix's `MAILER-DAEMON` (its `${sender}` for the
    /// null sender unless `null_sender=` is set) is the null sender; anything SMTP cannot carry is
    /// bad input, which the MTA should return rather than retry for days.
    static func envelopeSender(_ sender: String?) throws(PostroomError) -> String? {
        guard let sender, !sender.isEmpty, sender.uppercased() != "MAILER-DAEMON" else { return nil }
        if let problem = Envelope.problem(in: sender) {
            throw .malformed(
                what: "envelope", location: nil,
                reason: "the sender \"\(sender.escapingControls)\" is not an address SMTP can carry: \(problem)")
        }
        return sender
    }

    /// `--check`: every problem with its line; 0 when clean, 78 otherwise.
    func check(environment: [String: String]) -> Int32 {
        do {
            let configuration = try Configuration(path: config, environment: environment)
            guard let rulesPath = configuration.value(Configuration.rules, flag: rules) else {
                return Self.report("no rule table: set 'rules' in postroom.conf or pass --rules", status: .config)
            }
            let context = RouteContext(
                spool: configuration.spool(flag: spool), configuration: configuration, recipient: "check@localhost")
            let file = configuration.path ?? "configuration"
            var settings = Router.settingsProblem(configuration).map { ["\(file): \($0)"] } ?? []
            // Lists look up DMARC policies: their settings matter when the table has a list.
            let hasList = (try? RuleTable(path: rulesPath, context: context))?.rules.contains {
                $0.handler == ListHandler.self
            }
            if hasList == true, let problem = Router.lookupSettingsProblem(configuration) {
                settings.append("\(file): \(problem)")
            }
            let problems = settings + RuleTable.check(path: rulesPath, context: context)
            guard problems.isEmpty else {
                OutputStream.writeAll(Array(problems.map { $0 + "\n" }.joined().utf8), to: 2)
                return Sysexit.config.rawValue
            }
            let count = try RuleTable(path: rulesPath, context: context).rules.count
            OutputStream.writeAll(
                Array("\(rulesPath): \(count) rule\(count == 1 ? "" : "s"), no problems\n".utf8), to: 1)
            return 0
        } catch {
            return Self.report(error.description, status: error.exitStatus)
        }
    }
}
