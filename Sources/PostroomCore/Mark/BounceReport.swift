/// A bounce that came back, matched to the message and member it is about and recorded.
///
/// The address it came back to says what bounced, most trusted first:
/// - `bounces+NAME@site` (`deliver --verp`): the file `NAME` in `sent/`; the member is that
///   file's envelope recipient, else the report's `Final-Recipient`.
/// - `LIST-bounces+member=domain@site` (a list copy from `route`): the list and the member.
/// - anything else (a plain `bounces@site`): the original Message-ID in the report names the
///   file, when postroom made it; the member is that file's envelope recipient. A report
///   matched to nothing of ours is logged and not counted: anyone can write a report naming
///   any address. So is one for `bounces+NAME@` whose file is not in `sent/`, and anything not
///   sent by a mail system (mail systems send bounces from the null sender `<>`, a few from
///   MAILER-DAEMON or postmaster): a person who writes "550 5.1.1" to a VERP address suppresses
///   no one.
///
/// Recording sets `B` (permanent) or `W` (delay) on the file in `sent/cur`, writes a log line
/// with the class, status and diagnostic, and for a bounce that counts against the address
/// (`BounceClassification`) adds a line to the bounce history, which may suppress the address.
public struct BounceReport: MarkRecord {
    /// The report as read.
    public let report: DeliveryStatusReport
    /// What it means.
    public let classification: BounceClassification
    /// The spool file it is about, if the address or Message-ID names one.
    public let name: MessageName?
    /// The list it is about (a list copy's VERP address), if any.
    public let list: String?
    /// The member it names without looking at the spool: the VERP member, else the report's.
    public let reportedMember: String?
    /// The address the bounce came back to.
    public let recipient: String
    /// Identifies this bounce across deliveries: its Message-ID, else the message's digest.
    public let key: String
    /// The time it is recorded at.
    public let now: Timestamp
    private let nameFromAddress: Bool
    /// Whether it came from a mail system: the null sender, MAILER-DAEMON or postmaster.
    private let fromMailSystem: Bool

    /// Reads the bounce in `message`; `now` dates the history line.
    public init(message: IncomingMessage, configuration: Configuration, now: Timestamp = .now()) throws(PostroomError) {
        report = DeliveryStatusReport(message: message.message)
        classification = BounceClassification(
            message: message.message, report: report, nullSender: message.sender == nil)
        recipient = message.recipient
        self.now = now
        let senderLocal = message.sender.map { IncomingMessage.split($0).local.lowercased() }
        fromMailSystem = senderLocal.map { ["mailer-daemon", "postmaster", "mail-daemon"].contains($0) } ?? true
        let final = report.recipient?.finalRecipient ?? report.failedRecipients.first
        if let name = VERP.message(in: message.recipient) {
            self.name = name
            nameFromAddress = true
            list = nil
            reportedMember = final
        } else if let decoded = VERP.decode(message.recipient) {
            name = nil
            nameFromAddress = false
            list = decoded.list
            reportedMember = decoded.member
        } else {
            name = report.originalMessageID.flatMap(MessageID.name(in:))
            nameFromAddress = false
            list = nil
            reportedMember = nil
        }
        let identity = message.message.value(of: "Message-ID") ?? message.identity
        key = String(
            Digest.hex(Digest.hash(.sha256, Array("\(identity)\u{0}\(recipient.lowercased())".utf8))).prefix(16))
        _ = try BounceHistory.Policy(configuration: configuration)
    }

    public var summary: String {
        var words = ["bounce", classification.kind.rawValue]
        if let status = classification.status { words.append("dsn=\(status)") }
        if let list { words.append("list=\(list)") }
        if let name { words.append("name=\(name.base)") }
        if let reportedMember { words.append("member=<\(reportedMember)>") }
        if classification.counts { words.append("(counts against the address)") }
        return words.joined(separator: " ")
    }

    public func record(in spool: Spool, configuration: Configuration, log: SpoolLog) throws(PostroomError) -> MarkResult
    {
        let policy = try BounceHistory.Policy(configuration: configuration)
        guard fromMailSystem else {
            log.record(
                nil, ["orig_to": "<\(recipient)>"], status: "ignored",
                detail: "not from a mail system (bounces come from <>): not a bounce", at: now)
            return MarkResult(detail: "a message to <\(recipient)> not from a mail system: nothing recorded")
        }
        let file = try name.flatMap { name throws(PostroomError) in try flagSentFile(name, in: spool) }
        // Who bounced: the file's recipient is ours (the report's only when the file does not say);
        // a list's VERP address names its member. A name whose file is gone names no one.
        let member =
            file.map {
                SentFile.envelopeRecipient(ofFileAt: spool.maildir(.sent).path(of: $0, in: .cur)) ?? reportedMember
            } ?? (list != nil ? reportedMember : nil)
        let dsn = classification.status.map(\.description) ?? "-"
        let fields: KeyValuePairs = ["to": "<\(member ?? "?")>", "dsn": dsn, "orig_to": "<\(recipient)>"]
        let detail = [
            list.map { "list=\($0)" }, classification.diagnostic, name != nil && file == nil ? "not in sent/" : nil,
        ].compactMap { $0 }.joined(separator: "; ")
        let logName = file ?? name
        guard classification.flag != nil else {
            log.record(
                logName, fields, status: classification.kind.rawValue,
                detail: (["logged only"] + (detail.isEmpty ? [] : [detail])).joined(separator: "; "), at: now)
            return MarkResult(detail: "\(classification.kind.rawValue) to <\(recipient)>: nothing to record")
        }
        guard classification.counts, let member, name != nil || list != nil else {
            let status = classification.kind.rawValue
            let why = classification.counts ? "matches no message or member of ours" : "not counted"
            log.record(
                logName, fields, status: status,
                detail: ([detail, why].filter { !$0.isEmpty }).joined(separator: "; "), at: now)
            return MarkResult(detail: "\(classification.kind.rawValue) \(dsn) for <\(member ?? "?")>: \(why)")
        }
        let what = list.map { "list=\($0)" } ?? "name=\(name?.base ?? "-")"
        let entry = BounceHistory.Entry(
            date: BounceHistory.date(now), address: member, status: dsn, what: what, key: key)
        let outcome = try BounceHistory(spool: spool).count(
            entry, policy: policy, atOnce: classification.suppressesAtOnce, reason: classification.diagnostic ?? what)
        let counted: String
        switch outcome {
        case .duplicate: counted = "counted before"
        case .counted(let days): counted = "\(days) of \(policy.days) days"
        case .suppressed: counted = classification.suppressesAtOnce ? "suppressed at once" : "\(policy.days) days"
        }
        log.record(
            logName, fields, status: "bounced",
            detail: [detail, counted].filter { !$0.isEmpty }.joined(separator: "; "), at: now)
        guard case .suppressed(let note, let added) = outcome else {
            return MarkResult(detail: "bounce \(dsn) for <\(member)>: \(counted)")
        }
        log.record(
            nil, ["to": "<\(member)>"], status: "suppressed", detail: added ? note : "already suppressed", at: now)
        return MarkResult(detail: "bounce \(dsn) for <\(member)>: suppressed")
    }

    /// Flags the sent file the bounce names (when the bounce warrants a flag) and returns its
    /// name now, or nil when it is not in `sent/`.
    private func flagSentFile(_ name: MessageName, in spool: Spool) throws(PostroomError) -> MessageName? {
        guard let flag = classification.flag else {
            guard case .sent(let found) = try SentFile.locate(name.base, in: spool, likelyFlags: SentFile.likelyFlags)
            else { return nil }
            return found
        }
        switch try SentFile.addFlag(flag, to: name.base, in: spool, likelyFlags: SentFile.likelyFlags) {
        case .added(_, let flagged, _): return flagged
        case .alreadySet(let found): return found
        case .notSent: return nil
        }
    }
}
