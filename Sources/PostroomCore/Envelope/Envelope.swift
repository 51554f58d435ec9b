/// The SMTP envelope: who the message is from (`MAIL FROM`) and to (`RCPT TO`).
///
/// Every address is checked against RFC 5321 syntax when the envelope is made, so whatever
/// reaches a transport or `--dry-run` can be written into a command line as it is.
public struct Envelope: Sendable, Equatable {
    /// The sender, or nil for the null sender `<>` (bounces never get bounces).
    public let sender: String?
    /// The recipients; a spool file has exactly one.
    public let recipients: [String]
    /// An extra recipient in the same transaction whose refusal does not count:
    /// `deliver --loopback`'s address, which gets a copy to show the message left. Never in the header.
    public private(set) var loopback: String?

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

    /// This envelope with `address` as its loopback recipient; throws when SMTP cannot carry it.
    public func addingLoopback(_ address: String) throws(PostroomError) -> Envelope {
        if let problem = Self.problem(in: address) {
            throw .malformed(
                what: "envelope", location: nil,
                reason:
                    "the loopback address \"\(address.escapingControls)\" is not an address SMTP can carry: \(problem)")
        }
        var copy = self
        copy.loopback = address
        return copy
    }

    /// This envelope with another sender (a VERP address), the recipients kept.
    public func replacingSender(_ sender: String?) throws(PostroomError) -> Envelope {
        var copy = try Envelope(sender: sender, recipients: recipients)
        copy.loopback = loopback
        return copy
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
