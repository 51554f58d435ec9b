/// What a message that came back to a bounce address means for the address it was sent to,
/// decided by its DSN status (RFC 3463), not by guessing from prose.
///
/// | class | when | flag | counts |
/// |---|---|---|---|
/// | `address` | 5.1.x, 5.2.1, 5.0.0, a failure without a status, a bounce without a report | B | yes |
/// | `policy` | 5.7.x, or any 5.x.x whose diagnostic speaks of spam, DMARC, blocking, reputation or policy | B | no |
/// | `permanent` | other 5.x.x: 5.2.2 mailbox full, 5.2.3 too large, 5.3.x, 5.4.x, 5.5.x, 5.6.x | B | no |
/// | `temporary` | 4.x.x, `Action: delayed` | W | no |
/// | `autoReply` | RFC 3834 auto-replies (vacation, out of office) | none | no |
/// | `delivered` | `Action: delivered`/`relayed`/`expanded`, 2.x.x | none | no |
/// | `notBounce` | no report, no sign of a bounce or auto-reply (a person answering) | none | no |
///
/// A full mailbox (5.2.2) is soft, as mail administrators treat it: its owner may empty it, so
/// it never counts against the address. 5.1.1 ("no such user") and 5.1.10 (Microsoft 365's
/// "recipient not found", and RFC 7505's null MX) suppress at once; every other counting
/// bounce waits for `bounce_days` distinct days (a domain whose DNS is broken for a day, 5.1.2,
/// must not lose all its members at once).
public struct BounceClassification: Sendable, Equatable {
    /// The classes; the raw value goes into log lines.
    public enum Kind: String, Sendable {
        /// A permanent failure about the address: counted against it.
        case address = "bounced"
        /// A policy or reputation refusal: recorded, never counted.
        case policy = "refused"
        /// A permanent failure that says nothing about the address: recorded, never counted.
        case permanent = "failed"
        /// A temporary failure or delay notice: recorded, never counted.
        case temporary = "delayed"
        /// An automatic reply: logged only.
        case autoReply = "auto-reply"
        /// A success notice: logged only.
        case delivered = "delivered"
        /// Not a bounce at all: logged only.
        case notBounce = "not-a-bounce"
    }

    /// The class.
    public let kind: Kind
    /// The status it was decided on, if the message had one.
    public let status: DSNStatus?
    /// The remote server's words, if any.
    public let diagnostic: String?

    /// Classifies `message`, whose report is `report`; `nullSender` says it came with `<>`.
    public init(message: Message, report: DeliveryStatusReport, nullSender: Bool) {
        let recipient = report.recipient
        var status = recipient?.status
        if status == nil || status?.isUndefined == true, let found = report.textStatus { status = found }
        self.status = status
        diagnostic = recipient?.diagnostic ?? report.textDiagnostic
        let action = recipient?.action ?? ""
        if !report.hasReport {
            let bounceLike = Self.looksLikeBounce(message, report: report)
            if !bounceLike && Self.isAutoReply(message) {
                kind = .autoReply
                return
            }
            guard bounceLike || nullSender else {
                kind = .notBounce
                return
            }
        }
        kind = Self.kind(status: status, action: action, diagnostic: diagnostic)
    }

    /// Classifies a server's refusal during the SMTP session (`550 5.1.1 <a@b>: no such user`),
    /// which `deliver` meets itself: the same rules as a bounce's report.
    public init(smtpReply reply: String) {
        let found = DSNStatus.reply(in: Array(reply.utf8))
        status = found?.0
        diagnostic = reply
        kind = Self.kind(status: status, action: "failed", diagnostic: reply)
    }

    private static func kind(status: DSNStatus?, action: String, diagnostic: String?) -> Kind {
        if ["delivered", "relayed", "expanded"].contains(action) || status?.kind == 2 { return .delivered }
        if action == "delayed" || status?.kind == 4 { return .temporary }
        if status?.subject == 7 || speaksOfPolicy(diagnostic) { return .policy }
        if let status, status.subject != 1, !(status.subject == 2 && status.detail == 1), !status.isUndefined {
            return .permanent
        }
        return .address
    }

    /// Whether it counts against the address.
    public var counts: Bool { kind == .address }

    /// Whether one such bounce suppresses the address at once: 5.1.1 and 5.1.10.
    public var suppressesAtOnce: Bool {
        guard counts, let status, status.kind == 5, status.subject == 1 else { return false }
        return status.detail == 1 || status.detail == 10
    }

    /// The flag for the sent file: `B` for a permanent failure, `W` for a delay, else none.
    public var flag: Character? {
        switch kind {
        case .address, .policy, .permanent: "B"
        case .temporary: "W"
        case .autoReply, .delivered, .notBounce: nil
        }
    }

    /// Signs of a bounce besides a report: Exim's and Gmail's `X-Failed-Recipients`, a
    /// mailer-daemon or postmaster sender, a failure subject, a failure reply in the text.
    static func looksLikeBounce(_ message: Message, report: DeliveryStatusReport) -> Bool {
        if !report.failedRecipients.isEmpty { return true }
        if let kind = report.textStatus?.kind, kind != 2 { return true }
        let from = (message.value(of: "From") ?? "").lowercased()
        if from.contains("mailer-daemon") || from.contains("postmaster@") { return true }
        let subject = (message.decodedValue(of: "Subject") ?? "").lowercased()
        let phrases = [
            "delivery status notification", "undeliverable", "undelivered mail", "mail delivery failed",
            "failure notice", "returned mail", "delivery failure", "delivery has failed", "could not be delivered",
        ]
        return phrases.contains { subject.contains($0) }
    }

    /// RFC 3834 auto-replies and the older conventions of vacation programs and Exchange.
    static func isAutoReply(_ message: Message) -> Bool {
        if let auto = message.value(of: "Auto-Submitted"),
            auto.lowercased().prefix(while: { $0 != ";" && $0 != " " }) == "auto-replied"
        {
            return true
        }
        if message.contains("X-Autoreply") || message.contains("X-Autorespond") { return true }
        if message.values(of: "Precedence").contains(where: { $0.lowercased() == "auto_reply" }) { return true }
        let mailer = ((message.value(of: "X-Mailer") ?? "") + " " + (message.value(of: "User-Agent") ?? ""))
            .lowercased()
        if mailer.contains("vacation") { return true }
        let subject = (message.decodedValue(of: "Subject") ?? "").lowercased()
        return ["auto:", "automatic reply", "autoreply", "auto-reply", "out of office", "out of the office"].contains {
            subject.hasPrefix($0)
        }
    }

    /// Whether a diagnostic says the refusal is about the sender or the message's reputation,
    /// not the address: a 5.x.x that is really a policy block.
    static func speaksOfPolicy(_ diagnostic: String?) -> Bool {
        guard let text = diagnostic?.lowercased() else { return false }
        let words = [
            "spam", "dmarc", "blocked", "blacklist", "blocklist", "block list", "denylist", "reputation", "policy",
            "spamhaus", "dnsbl", "rbl ", "junk",
        ]
        return words.contains { text.contains($0) }
    }
}
