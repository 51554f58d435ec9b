/// A loopback copy came back: `deliver --loopback` sent the message to its recipient and, in the
/// same transaction, to the loopback address, which the MTA routes to `mark --loopback` (or
/// route's `loopback` handler). Its return shows the first mail server took the message.
///
/// The copy's Message-ID names the spool file (`MessageID.name(in:)`); the file in `sent/cur/`
/// gets flag `C`. A copy that names no file of ours, or one that is gone or was never sent, is
/// logged and left (exit 0: the MTA must not keep it). A copy that arrives while `deliver` still
/// holds its file in `outgoing/cur/` (the server passed it on before deliver read the reply and
/// renamed) is a temporary failure (exit 75): the MTA tries again after deliver has finished.
public struct LoopbackConfirmation: MarkRecord {
    /// The flag `deliver` sets in the rename into `sent/`: a loopback copy went with the message.
    public static let sentFlag: Character = "L"
    /// The flag a returning copy sets: confirmed.
    public static let confirmedFlag: Character = "C"
    /// The names tried in `sent/cur/` before the directory is read.
    static let likelyFlags = ["L", "", "CL", "C"]

    /// The spool name the copy's Message-ID gives, or nil when it names no message of ours.
    public let name: MessageName?
    /// The copy's Message-ID as it came (for the log when it is not ours).
    public let messageID: String?
    /// Why it is not ours, when `name` is nil.
    private let foreignReason: String

    /// Reads the Message-ID of `message`. With `message_id_domain` set, an ID with another
    /// domain is not ours, whatever its left part looks like.
    public init(message: IncomingMessage, configuration: Configuration) throws(PostroomError) {
        messageID = message.message.value(of: "Message-ID").map { HeaderWriter.sanitized($0.trimmingSpaces) }
        guard let messageID, let parts = MessageID.split(messageID) else {
            name = nil
            foreignReason = messageID == nil ? "it has no Message-ID" : "its Message-ID is not <left@right>"
            return
        }
        if let domain = configuration.value(Configuration.messageIDDomain),
            parts.domain.lowercased() != domain.lowercased()
        {
            name = nil
            foreignReason = "its Message-ID is not in message_id_domain \(domain)"
            return
        }
        // A spool name starts with its creation time and has dots: `1764640000.M1P2Q3.host`.
        guard let named = MessageName(messageIDLocalPart: parts.local), named.createdAt != nil,
            named.base.contains(".")
        else {
            name = nil
            foreignReason = "its Message-ID names no spool file"
            return
        }
        name = named
        foreignReason = ""
    }

    public var summary: String {
        guard let name else { return "loopback copy of no message of ours (\(foreignReason)): logged, nothing changed" }
        return "loopback copy of \(name.base): flag \(Self.confirmedFlag) on it in sent/cur"
    }

    public func record(in spool: Spool, configuration: Configuration, log: SpoolLog) throws(PostroomError) -> MarkResult
    {
        guard let name else {
            let detail = "loopback copy of no message of ours: \(foreignReason)"
            log.record(nil, ["message_id": messageID ?? "none"], status: "ignored", detail: detail)
            return MarkResult(detail: detail)
        }
        let change = try SentFile.addFlag(
            Self.confirmedFlag, to: name.base, in: spool, likelyFlags: Self.likelyFlags)
        switch change {
        case .added(_, let flagged, let sentAt):
            let delay = max(0, Timestamp.now().interval - sentAt)
            let text = Self.seconds(delay)
            let to = Self.recipient(of: spool.maildir(.sent).path(of: flagged, in: .cur))
            log.record(name, ["to": to, "delay": text], status: "confirmed", detail: "loopback after \(text)s")
            return MarkResult(detail: "\(name.base) confirmed, loopback after \(text)s")
        case .alreadySet:
            log.record(name, status: "confirmed", detail: "already confirmed; this copy changes nothing")
            return MarkResult(detail: "\(name.base) already confirmed")
        case .notSent(.outgoing(claimed: true)):
            log.record(name, status: "early", detail: "loopback copy before deliver moved the file into sent/")
            throw .temporary("\(name.base) is still being sent (claimed in outgoing/cur by a running deliver)")
        case .notSent(let place):
            let detail = "loopback copy, but the message is \(Self.describe(place))"
            log.record(name, status: "ignored", detail: detail)
            return MarkResult(detail: "\(name.base): \(detail)")
        }
    }

    private static func describe(_ place: SentFile.Place) -> String {
        switch place {
        case .sent: "in sent/"
        // Unclaimed: a deliver died before recording the send; the next send brings a new copy.
        case .outgoing: "in outgoing/, not sent yet (its next send brings another copy)"
        case .queue(let queue): "in \(queue.rawValue)/"
        case .gone: "no longer in the spool"
        }
    }

    /// `<a@b>`, the envelope recipient of the sent file, or `?` when it cannot be read.
    private static func recipient(of path: String) -> String {
        do throws(PostroomError) {
            guard let stored = try StoredMessage.open(path, headerLimit: 1 << 20) else { return "?" }
            return try Envelope(of: stored.header).recipients.map { "<\($0)>" }.joined(separator: ",")
        } catch {
            return "?"
        }
    }

    /// Seconds with one decimal: `2.1`.
    private static func seconds(_ value: Double) -> String {
        let tenths = Int((min(value, 1e12) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
