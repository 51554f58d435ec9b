/// How `deliver` makes the envelope a spool message goes out with: the sender the message names
/// (else the bounce address, else From), VERP, and the loopback recipient.
public struct SendingEnvelope: Sendable, Equatable {
    /// The envelope sender for messages that name none (`--bounce-address`, `bounce_address`).
    public var bounceAddress: String?
    /// Messages sent from `bounceAddress` get the spool name in it (`--verp`, `verp`).
    public var verp = false
    /// The extra recipient of every message a loopback copy can come back for (`--loopback`).
    public var loopback: String?

    /// Nothing added: the message's own envelope.
    public init() {}

    /// The settings from `deliver`'s flags, else the configuration. Checks the addresses once
    /// here, where a bad one is the operator's to fix, rather than failing every message.
    public init(
        bounceAddress: String?, verp: Bool, loopback: String?, configuration: Configuration
    ) throws(PostroomError) {
        self.bounceAddress = configuration.value(Configuration.bounceAddress, flag: bounceAddress)
        self.verp = try configuration.isEnabled(Configuration.verp, flag: verp)
        self.loopback = configuration.value(Configuration.loopbackAddress, flag: loopback)
        let keys = [
            ("--bounce-address, bounce_address", self.bounceAddress), ("--loopback, loopback_address", self.loopback),
        ]
        for (names, address) in keys {
            if let address, let problem = Envelope.problem(in: address) {
                throw .configuration(
                    location: configuration.path,
                    reason: "\(names): \"\(address)\" is not an address SMTP can carry: \(problem)")
            }
        }
        if self.verp && self.bounceAddress == nil {
            throw .configuration(
                location: configuration.path,
                reason: "--verp (verp = yes) needs the bounce address to build on: give --bounce-address or set "
                    + "bounce_address (see postroom.conf(5))")
        }
    }

    /// The envelope of the message whose header is `header`, stored as `name` (nil: not from
    /// the spool, as for `--dry-run` of standard input, when the Message-ID's name stands in).
    ///
    /// VERP applies only to a message sent from the bounce address itself: a sender the message
    /// names for a reason (a list copy's member VERP, a redirect's SRS address, the null sender
    /// of a report) must stay as it is. The loopback recipient is added only when the
    /// Message-ID was made from the spool name: a copy of any other message (a list post keeps
    /// its poster's Message-ID) could not be matched to its file and would look lost.
    public func envelope(of header: Message, name: MessageName?) throws(PostroomError) -> Envelope {
        var envelope = try Envelope(of: header, bounceAddress: bounceAddress)
        let idName = header.value(of: "Message-ID").flatMap(MessageID.name(in:))
        let spoolName = name ?? idName
        if verp, let bounceAddress, let spoolName, let sender = envelope.sender,
            sender.lowercased() == bounceAddress.lowercased()
        {
            envelope = try envelope.replacingSender(VERP.encode(message: spoolName, bounceAddress: bounceAddress))
        }
        if let loopback, let spoolName, idName?.base == spoolName.base {
            envelope = try envelope.addingLoopback(loopback)
        }
        return envelope
    }
}
