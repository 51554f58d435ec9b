/// One message an MTA handed to `route`, with the envelope it came in.
///
/// The bytes are kept as they arrived (line endings made LF, an mbox `From ` line dropped), so
/// an alias can pass the message on byte for byte below the fields it prepends.
public struct IncomingMessage: Sendable {
    /// The message as received: LF line endings, no mbox `From ` line.
    public let bytes: [UInt8]
    /// The parsed header (and body) of `bytes`.
    public let message: Message
    /// Where the body starts in `bytes` (just after the blank line; `bytes.count` when there is none).
    public let bodyStart: Int
    /// The envelope recipient being routed, as the MTA gave it.
    public let recipient: String
    /// The envelope sender, or nil for the null sender `<>` (a bounce or an auto-reply).
    public let sender: String?
    /// The fan-out key: a digest of the envelope and the message, the same when the MTA retries.
    public let identity: String

    /// Reads a message. Throws `.malformed` when the bytes are not a message (route exits 65)
    /// or are over `limits`.
    public init(
        bytes input: [UInt8], recipient: String, sender: String?, limits: MessageLimits
    ) throws(PostroomError) {
        let parsed = try Message(parsing: input, source: "the message on standard input")
        var message = parsed
        message.envelopeLine = nil
        // Control fields are ours alone: one arriving from outside could name an envelope.
        message.removeAll { ControlHeader.isControl($0.name) }
        // The parser refuses a bare CR, so any CR ends a CRLF line, even where the first line
        // ended in LF alone (a mixed message).
        if message.lineEnding == .crlf || input.contains(13) {
            // Maildir and the spool keep LF; CRLF comes back on the wire.
            message = try Message(parsing: WireFormat.lf(message.bytes), source: "the message on standard input")
        }
        try limits.check(message, source: "the message on standard input")
        let bytes = message.bytes
        self.bytes = bytes
        self.message = message
        self.bodyStart = bytes.count - message.body.count
        self.recipient = recipient
        self.sender = sender?.isEmpty == true ? nil : sender
        self.identity = Self.identity(bytes: bytes, recipient: recipient, sender: self.sender)
    }

    /// The header as received, below `fields` prepended in order (a delivery agent's trace
    /// fields: `Delivered-To`, `X-Loop`), ending with the blank line. Nothing else changes, so a
    /// DKIM signature over the header still verifies.
    public func header(below fields: [(name: String, value: String)]) throws(PostroomError) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields { out += try HeaderWriter.field(name, value, lineEnding: .lf).raw }
        return out + bytes[..<bodyStart]
    }

    /// The body as a slice of `bytes` (shared, not copied, by every copy made of it).
    public var body: ArraySlice<UInt8> { bytes[bodyStart...] }

    /// The local part and domain of the recipient (the domain is empty when there is none).
    public var recipientParts: (local: String, domain: String) { Self.split(recipient) }

    /// Splits an address at its last `@`.
    public static func split(_ address: String) -> (local: String, domain: String) {
        let utf8 = address.utf8
        guard let at = utf8.lastIndex(of: UInt8(ascii: "@")) else { return (address, "") }
        return (String(address[..<at]), String(address[utf8.index(after: at)...]))
    }

    /// Hex SHA-256 over the envelope and the message, without the fields an MTA adds afresh on
    /// each delivery attempt (`Delivery-date`), so a retry of the same delivery finds the same key.
    static func identity(bytes: [UInt8], recipient: String, sender: String?) -> String {
        var hasher = Digest.Hasher(.sha256)
        hasher.update(Array("\(recipient.lowercased())\u{0}\(sender ?? "")\u{0}".utf8))
        var position = 0
        // Header fields one by one, skipping Delivery-date; then the rest as it is.
        while position < bytes.count {
            var end = position
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            // A field runs on over continuation lines.
            var next = end + 1
            while next < bytes.count && (bytes[next] == 32 || bytes[next] == 9) {
                while next < bytes.count && bytes[next] != 10 { next += 1 }
                next += 1
            }
            let line = bytes[position..<min(end, bytes.count)]
            if line.isEmpty { break }
            if !HeaderField.namesEqual(String(decoding: line.prefix(14), as: UTF8.self), "Delivery-date:") {
                hasher.update(bytes[position..<min(next, bytes.count)])
            }
            position = next
        }
        if position < bytes.count { hasher.update(bytes[position...]) }
        return Digest.hex(hasher.finish())
    }
}
