/// The SMTP envelope: who the message is from (`MAIL FROM`) and to (`RCPT TO`).
///
/// Every address is checked against RFC 5321 syntax when the envelope is made, so whatever
/// reaches a transport or `--dry-run` can be written into a command line as it is.
public struct Envelope: Sendable, Equatable {
    /// The sender, or nil for the null sender `<>` (bounces never get bounces).
    public let sender: String?
    /// The recipients; a spool file has exactly one.
    public let recipients: [String]

    /// An envelope from parts; an empty sender is the null sender. Throws when an address
    /// is not one SMTP can carry (RFC 5321 4.1.2) or there is no recipient.
    public init(sender: String?, recipients: [String]) throws(PostroomError) {
        let sender = sender?.isEmpty == true ? nil : sender
        let addresses = (sender.map { [("sender", $0)] } ?? []) + recipients.map { ("recipient", $0) }
        for (role, address) in addresses {
            if let problem = Self.problem(in: address) {
                throw .malformed(
                    what: "envelope", location: nil,
                    reason:
                        "the \(role) \"\(address.escapingControls)\" is not an address SMTP can carry: \(problem)")
            }
        }
        guard !recipients.isEmpty else {
            throw .malformed(what: "envelope", location: nil, reason: "there is no recipient")
        }
        self.sender = sender
        self.recipients = recipients
    }

    /// Why `address` cannot go into MAIL FROM or RCPT TO (RFC 5321 4.1.2), or nil when it can.
    public static func problem(in address: String) -> String? {
        SMTPMailbox.problem(in: address)
    }

    /// The envelope of a spool message: the sender from `X-Postroom-Envelope-From`, else
    /// `bounceAddress`, else From; the recipient from `X-Postroom-Envelope-To`, else To, Cc and Bcc.
    ///
    /// A spool file has one envelope recipient (one file per recipient keeps status, retry
    /// and bounces per recipient), so a message naming several is refused, never sent to
    /// the first alone.
    public init(of message: Message, bounceAddress: String? = nil) throws(PostroomError) {
        let sender: String?
        if let control = message.control(.envelopeFrom) {
            sender = try AddressParser.parsePath(control)?.address
        } else if let bounceAddress {
            sender = bounceAddress
        } else if let from = message.value(of: "From"),
            let first = try? AddressParser.parseList(from).flatMap(\.mailboxes).first
        {
            sender = first.address
        } else {
            throw .malformed(what: "message", location: nil, reason: "no sender: add From or X-Postroom-Envelope-From")
        }
        var recipients: [String] = []
        var seen = Set<String>()
        // The same mailbox named twice (the domain's case aside) is one recipient.
        func add(_ mailbox: Mailbox) {
            if seen.insert(mailbox.normalizedAddress).inserted { recipients.append(mailbox.address) }
        }
        let name = ControlHeader.envelopeTo.rawValue
        let controls = message.values(of: name).map { ($0, ControlHeader.decode($0)) }
        if let (raw, _) = controls.first(where: { $0.1 == nil }) {
            throw .malformed(
                what: "message", location: nil,
                reason: "\(name) \"\(raw.escapingControls)\" is not %-escaped UTF-8")
        }
        let named = controls.compactMap(\.1).filter { !$0.trimmingSpaces.isEmpty }
        if !named.isEmpty {
            for control in named {
                guard let recipient = try AddressParser.parsePath(control) else {
                    throw .malformed(what: "message", location: nil, reason: "\(name) is <>, which is no recipient")
                }
                add(recipient)
            }
        } else {
            for field in ["To", "Cc", "Bcc"] {
                for value in message.values(of: field) {
                    for mailbox in try AddressParser.parseList(value).flatMap(\.mailboxes) { add(mailbox) }
                }
            }
        }
        guard !recipients.isEmpty else {
            throw .malformed(what: "message", location: nil, reason: "no recipient: add To or \(name)")
        }
        guard recipients.count == 1 else {
            let list = recipients.map { "<\($0.escapingControls)>" }.joined(separator: ", ")
            let source = named.isEmpty ? "To, Cc and Bcc name" : "\(named.count) \(name) fields name"
            throw .malformed(
                what: "message", location: nil,
                reason:
                    "\(source) \(recipients.count) envelope recipients (\(list)), and a spool file has one: "
                    + "write one file per recipient, each with \(name) naming it")
        }
        try self.init(sender: sender, recipients: recipients)
    }
}

/// What a transport made of one message.
public enum DeliveryOutcome: Sendable, Equatable {
    /// Accepted: the reply (`250 2.0.0 queued as X`) and where (`host[ip]:port`).
    case sent(reply: String, relay: String)
    /// Try again later: a 4xx reply, or no answer at all (connection refused, timeout, TLS).
    case deferred(reply: String, relay: String, connectionFailed: Bool)
    /// Refused for good: a 5xx reply.
    case failed(reply: String, relay: String)
}

/// Something that hands messages on: an SMTP server, a sendmail program, a maildir.
public protocol Transport: AnyObject {
    /// Sends `data` (the message as stored, LF line endings, internal fields removed).
    func deliver(_ data: [UInt8], envelope: Envelope) -> DeliveryOutcome
    /// Sends `message`, knowing that `next` comes after it: a transport may start on `next`
    /// early, and then the next call must deliver `next`.
    func deliver(_ message: Outbound, announcing next: Outbound?) -> DeliveryOutcome
    /// Whether knowing the next message helps (so the stage claims it ahead).
    var startsNextEarly: Bool { get }
    /// Closes connections; called at the end of a pass.
    func close()
}

extension Transport {
    /// Transports that send one message at a time take it whole and ignore what comes next.
    public func deliver(_ message: Outbound, announcing next: Outbound?) -> DeliveryOutcome {
        do throws(PostroomError) {
            return deliver(try message.contiguousBytes(), envelope: message.envelope)
        } catch {
            return .deferred(reply: "451 4.3.0 \(error.description)", relay: "localhost", connectionFailed: false)
        }
    }

    /// `deliver(_:announcing:)` for a message in memory.
    public func deliver(_ data: [UInt8], envelope: Envelope, announcing next: Outbound?) -> DeliveryOutcome {
        deliver(Outbound(data: data, envelope: envelope), announcing: next)
    }

    /// They gain nothing from a message claimed ahead.
    public var startsNextEarly: Bool { false }
}
