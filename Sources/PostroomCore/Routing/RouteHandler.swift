/// A handler in the rule table: `list`, `redirect`, `forward`, `maildir`, `reject`, ...
///
/// Each handler is one file. It is made from a rule's arguments (captures substituted) for one
/// message and decides what happens to it; it writes nothing itself: `Router` makes every copy
/// durable in one crash-exact fan-out, so a handler never has to think about kill -9.
public protocol RouteHandler: Sendable {
    /// The name used in the rule table.
    static var name: String { get }
    /// How many positional arguments the handler takes.
    static var argumentCount: ClosedRange<Int> { get }
    /// The `key=value` options it accepts.
    static var optionNames: Set<String> { get }

    /// Problems with a rule as written, for `route --check`: files that must exist, option values.
    /// Arguments that contain captures (`$1`) are checked only as far as they can be.
    static func check(_ arguments: RuleArguments, context: RouteContext) -> [String]

    /// The handler for one message, from the rule's arguments with its captures substituted.
    init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError)

    /// What to do with `message`; `.pass` tries the next rule. A thrown error is a local failure
    /// (the MTA keeps the message and retries), so throw only for what the site can fix.
    func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision
}

extension RouteHandler {
    /// No options unless a handler names some.
    public static var optionNames: Set<String> { [] }
    /// Nothing more to check unless a handler says so.
    public static func check(_ arguments: RuleArguments, context: RouteContext) -> [String] { [] }
}

/// What a handler decided.
public enum RouteDecision: Sendable {
    /// Nothing to do here (no such list, no such user): try the next rule. The reason is logged.
    case pass(reason: String)
    /// Make these copies durable; route then exits 0.
    case deliver(RoutePlan)
    /// Refuse the message with this exit code and text (67 unknown, 77 policy).
    case refuse(Sysexit, String)
    /// Deliberately drop the message (a loop), with a log line; route exits 0.
    case drop(reason: String)
    /// Record something about mail already sent (`mark`'s work: a loopback copy, a bounce, an
    /// unsubscribe); route exits with the status the record gives (0, or 77 for a refusal).
    case record(any MarkRecord)
}

/// The copies one message becomes, and a line for the log saying what was done.
public struct RoutePlan: Sendable {
    /// The copies, each its own file.
    public var copies: [RouteCopy]
    /// What happened, for the log: `list lists/S1234-students: 31 copies`.
    public var summary: String

    /// A plan from parts.
    public init(copies: [RouteCopy], summary: String) {
        self.copies = copies
        self.summary = summary
    }
}

/// One file `route` writes: an outgoing message, a held post, or a message for a local maildir.
public struct RouteCopy: Sendable {
    /// Where the copy goes.
    public enum Destination: Sendable, Equatable {
        /// The spool's `outgoing/`, for `deliver`.
        case outgoing
        /// The spool's `held/`, waiting for a moderator.
        case held
        /// A local maildir (an archive), by path.
        case maildir(String)
    }

    /// Where the copy goes.
    public let destination: Destination
    /// The SMTP envelope of the copy (for a maildir: the sender becomes Return-Path).
    public let envelope: Envelope
    /// Control fields for the spool (`X-Postroom-...`) besides the envelope, as (name, value).
    public let control: [(ControlHeader, String)]
    /// The header section as it goes out, ending with the blank line.
    public let header: [UInt8]
    /// The body (usually a slice of the incoming bytes, shared by all copies).
    public let body: ArraySlice<UInt8>
    /// A few words for the log line: `member 3 of lists/S1234-students`.
    public let note: String

    /// A copy from parts.
    public init(
        destination: Destination, envelope: Envelope, control: [(ControlHeader, String)] = [],
        header: [UInt8], body: ArraySlice<UInt8>, note: String
    ) {
        self.destination = destination
        self.envelope = envelope
        self.control = control
        self.header = header
        self.body = body
        self.note = note
    }
}

/// A rule's arguments: positional ones and `key=value` options.
public struct RuleArguments: Sendable {
    /// Positional arguments, in order.
    public var positional: [String]
    /// Options by key.
    public var options: [String: String]
    /// The rule's line in the table, for messages.
    public let line: Int
    /// The table's directory: relative file arguments are taken from here.
    public let directory: String

    /// Arguments from parts.
    public init(positional: [String], options: [String: String], line: Int, directory: String) {
        self.positional = positional
        self.options = options
        self.line = line
        self.directory = directory
    }

    /// A file argument as a path: relative ones are relative to the rule table's directory.
    public func path(_ argument: String) -> String {
        argument.hasPrefix("/") ? argument : "\(directory)/\(argument)"
    }

    /// A yes/no option (`yes`, `no`, `true`, `false`, `1`, `0`), or `defaultValue` when absent.
    public func flag(_ key: String, default defaultValue: Bool) throws(PostroomError) -> Bool {
        guard let text = options[key] else { return defaultValue }
        switch text.lowercased() {
        case "yes", "true", "1", "on": return true
        case "no", "false", "0", "off": return false
        default:
            throw .configuration(
                location: "rule table line \(line)", reason: "\(key)= takes yes or no, not \"\(text)\"")
        }
    }

    /// An option that must be one of `choices`, or `defaultValue` when absent.
    public func choice(
        _ key: String, _ choices: [String], default defaultValue: String
    ) throws(PostroomError)
        -> String
    {
        guard let text = options[key] else { return defaultValue }
        guard choices.contains(text.lowercased()) else {
            throw .configuration(
                location: "rule table line \(line)",
                reason: "\(key)= takes \(choices.joined(separator: ", ")), not \"\(text)\"")
        }
        return text.lowercased()
    }
}
