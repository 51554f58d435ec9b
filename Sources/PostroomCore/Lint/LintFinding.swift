/// One thing `postroom lint` found wrong with a message.
public struct LintFinding: Sendable, Equatable {
    /// How much it matters.
    public enum Severity: String, Sendable {
        /// Large receivers reject the message or put it in spam: exit 65, and `render --lint`
        /// fails the job.
        case error
        /// Worth fixing, but the message goes out as it is: exit 0, a log line from `render`.
        case warning
    }

    /// How much it matters.
    public var severity: Severity
    /// The check that found it: `from`, `dkim`, `message-id`, `date`, `unsubscribe`,
    /// `line-length`, `mime`, `8bit-header`, `parse`.
    public var check: String
    /// What is wrong.
    public var what: String
    /// Why it matters and what to do.
    public var why: String

    /// A finding with these parts.
    public init(_ severity: Severity, _ check: String, _ what: String, _ why: String) {
        self.severity = severity
        self.check = check
        self.what = what
        self.why = why
    }

    /// `FILE: error: what (why)`, the line `postroom lint` prints.
    public func line(file: String) -> String {
        "\(file): \(severity.rawValue): \(what) (\(why))"
    }

    /// `{"file":…,"severity":…,"check":…,"message":…,"advice":…}` on one line.
    public func json(file: String) -> String {
        let pairs = [
            ("file", file), ("severity", severity.rawValue), ("check", check), ("message", what), ("advice", why),
        ]
        return "{" + pairs.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
    }
}
