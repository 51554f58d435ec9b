import Glibc

/// `mark`: records loopback copies, bounces and unsubscribes (postroom-mark(8)).
///
/// Like `route`, it runs once per message an MTA pipes in, so its options are parsed by hand and
/// it links only the Foundation-free core. Its exit codes follow route's contract: 0 recorded (or
/// nothing to record, with a log line), 65 not a message, 77 a refused unsubscribe token, 75 for
/// every local failure, 64 for a wrong command line when not run from an MTA.
public struct MarkCommand {
    /// What to record.
    public enum Mode: Equatable, Sendable {
        /// The message on standard input is a loopback copy.
        case loopback
        /// The message on standard input is a bounce (a DSN, or any report for a VERP address).
        case bounce
        /// An unsubscribe token from the one-click URL.
        case unsubscribe(token: String)
        /// Print the usage.
        case help
    }

    /// The mode; nil until an option names one.
    public var mode: Mode?
    /// `--spool`.
    public var spool: String?
    /// `--config`.
    public var config: String?
    /// The envelope recipient of the message on stdin (`--recipient` or the MTA's environment).
    public var recipient: String?
    /// The envelope sender of the message on stdin (`--sender` or `SENDER`).
    public var sender: String?

    /// The usage text.
    public static let usage = """
        usage: mark --loopback [--spool DIR] [--config FILE] < message
               mark --bounce [--recipient ADDR] [--sender ADDR] [--spool DIR] [--config FILE] < message
               mark --unsubscribe TOKEN [--spool DIR] [--config FILE]
        Records what happened to mail after it was sent (see postroom-mark(8)).
        Exit: 0 recorded, 64 wrong command line, 65 not a message, 77 token refused, 75 try again later.

        """

    /// Parses `arguments` (without the program name); the envelope comes from `environment`
    /// where the options do not give it, as for `route`.
    public init(arguments: [String], environment: [String: String]) throws(PostroomError) {
        var options = OptionScanner(arguments)
        func choose(_ chosen: Mode) throws(PostroomError) {
            if let mode, mode != chosen { throw .usage("give one of --loopback, --bounce and --unsubscribe") }
            mode = chosen
        }
        while let option = options.next() {
            switch option {
            case "--spool": spool = try options.value()
            case "--config": config = try options.value()
            case "--recipient": recipient = try options.value()
            case "--sender": sender = try options.value()
            case "--loopback": try choose(.loopback)
            case "--bounce": try choose(.bounce)
            case "--unsubscribe": try choose(.unsubscribe(token: try options.value()))
            case "-h", "--help": mode = .help
            default: throw options.unknown
            }
        }
        if recipient == nil { recipient = RouteCommand.recipient(from: environment) }
        if sender == nil { sender = environment["SENDER"] }
    }

    /// Runs the command with the process's arguments, environment and standard streams; returns
    /// the exit status.
    public static func main(arguments: [String], environment: [String: String]) -> Int32 {
        // Called from an MTA (its pipe sets SENDER), a wrong command line is the site's mistake:
        // the mail must wait, not bounce.
        let misuse: Sysexit = environment["SENDER"] != nil ? .tempFail : .usage
        let command: MarkCommand
        do {
            command = try MarkCommand(arguments: arguments, environment: environment)
        } catch {
            return report(error.description + "\n" + usage, status: misuse)
        }
        guard let mode = command.mode else {
            return report("give --loopback, --bounce or --unsubscribe TOKEN\n" + usage, status: misuse)
        }
        if mode == .help {
            OutputStream.writeAll(Array(usage.utf8), to: 1)
            return 0
        }
        return command.run(mode, environment: environment).rawValue
    }

    private func run(_ mode: Mode, environment: [String: String]) -> Sysexit {
        let configuration: Configuration
        let spool: Spool
        let log: SpoolLog
        do {
            configuration = try Configuration(path: config, environment: environment)
            spool = configuration.spool(flag: self.spool)
            try spool.validate()
            log = try SpoolLog(path: spool.logPath, program: "mark", echo: false)
        } catch {
            return Self.status(Self.report(error.description, status: .tempFail))
        }
        let record: any MarkRecord
        do throws(PostroomError) {
            record = try self.record(for: mode, configuration: configuration)
        } catch {
            let status: Sysexit = error.exitStatus == .dataError ? .dataError : .tempFail
            return Self.status(Self.report(error.description, status: status))
        }
        do {
            let result = try record.record(in: spool, configuration: configuration, log: log)
            try log.sync()
            if result.status != .ok { return Self.status(Self.report(result.detail, status: result.status)) }
            OutputStream.writeAll(Array("mark: \(result.detail)\n".utf8), to: 2)
            return .ok
        } catch {
            return Self.status(Self.report(error.description, status: .tempFail))
        }
    }

    /// What to record for `mode`, reading the message on standard input where the mode needs one.
    private func record(for mode: Mode, configuration: Configuration) throws(PostroomError) -> any MarkRecord {
        switch mode {
        case .unsubscribe(let token):
            return try Unsubscription(token: token, configuration: configuration)
        case .loopback, .bounce:
            let limits = try MessageLimits.configured(configuration)
            let input = try MessageFile.readStandardInput(keepingAtMost: limits.messageSize ?? Int.max)
            let message = try IncomingMessage(
                bytes: input.bytes, recipient: recipient ?? "", sender: try RouteCommand.envelopeSender(sender),
                limits: .none)
            if mode == .loopback { return try LoopbackConfirmation(message: message, configuration: configuration) }
            return try BounceReport(message: message, configuration: configuration)
        case .help:
            throw .usage("--help has nothing to record")
        }
    }

    private static func status(_ code: Int32) -> Sysexit { Sysexit(rawValue: code) ?? .tempFail }

    private static func report(_ text: String, status: Sysexit) -> Int32 {
        OutputStream.writeAll(Array(("mark: " + text + (text.hasSuffix("\n") ? "" : "\n")).utf8), to: 2)
        return status.rawValue
    }
}
