import Postroom

/// The options that describe a request: `postroom submit` and `expand` as a filter.
public struct RequestOptions: ParsableArguments {
    /// The recipient list.
    @Option(help: ArgumentHelp("The recipient list: CSV with a header row, or JSON Lines.", valueName: "file"))
    public var recipients: String?

    /// The send-to modes.
    @Option(
        name: .customLong("send-to"),
        help: ArgumentHelp(
            "Whose copies: self, guardian, emergency, or a comma-separated combination.", valueName: "modes"))
    public var sendTo = "self"

    /// Shared variables.
    @Option(
        name: .customLong("var"),
        help: ArgumentHelp(
            "A shared template variable; dotted names nest (program.niceName=Splash).", valueName: "name=value"))
    public var variables: [String] = []

    /// Files to attach.
    @Option(
        name: .customLong("attach"),
        help: ArgumentHelp("A file to attach to every message (repeatable).", valueName: "file"))
    public var attachments: [String] = []

    /// Not bulk mail.
    @Flag(name: .customLong("no-bulk"), help: "Leave out Precedence: bulk and Auto-Submitted (one-to-one mail).")
    public var notBulk = false

    public init() {}

    /// The request: the template from standard input, the rest from these options, checked as
    /// far as it can be before expansion (warnings go to standard error).
    public func request() throws(PostroomError) -> Request {
        guard let recipients else { throw .usage("--recipients FILE is required") }
        let sendTo = try SendTo(parsing: sendTo)
        var parsed: [(name: String, value: String)] = []
        for text in variables { parsed.append(try Request.variable(text)) }
        let template = try MessageFile.readStandardInput()
        let request = try Request.fromFiles(
            template: template, recipientsPath: recipients, sendTo: sendTo, variables: parsed,
            attachmentPaths: attachments,
            isBulk: !notBulk)
        for warning in try request.checkTemplate() { printError("warning: \(warning)") }
        return request
    }
}

/// A one-line progress bar on a terminal's standard error; silent otherwise.
public final class ProgressBar: @unchecked Sendable {  // updated from one thread at a time
    private let enabled: Bool
    private var lastDrawn = 0
    private var drawnAnything = false

    /// A bar that draws only when stderr is a terminal.
    public init() {
        enabled = Terminal.isTerminal(2)
    }

    /// Redraws with `count` done (of `total`, when known); cheap to call often.
    public func update(_ count: Int, of total: Int? = nil, label: String) {
        guard enabled, count - lastDrawn >= 250 || count == total else { return }
        lastDrawn = count
        drawnAnything = true
        var line = "\r\(label): \(count)"
        if let total, total > 0 {
            let width = 30
            let filled = min(width, count * width / total)
            line +=
                "/\(total) [" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
                + "]"
        }
        StandardStream.write(line, to: 2)
    }

    /// Ends the bar's line.
    public func finish() {
        if enabled && drawnAnything { StandardStream.write("\n", to: 2) }
    }
}
