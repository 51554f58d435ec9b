/// What a bounce message says, read from its RFC 3464 delivery-status report when it has one.
///
/// A DSN is a `multipart/report; report-type=delivery-status` whose `message/delivery-status`
/// part holds one group of per-message fields, then one group per recipient (`Final-Recipient`,
/// `Action`, `Status`, `Diagnostic-Code`, `Remote-MTA`); a `message/rfc822` or
/// `text/rfc822-headers` part returns the original message or its header. Bounces without one
/// (qmail's "failure notice", old Exim and Gmail texts, some Exchange NDRs) are still bounces:
/// their status is taken from the text where an SMTP reply with an enhanced code is plainly
/// there (`550 5.1.1`, `550-5.1.1`), and their original Message-ID from a copied header.
///
/// Reading never throws and never traps: broken MIME, a missing boundary, bad base64 or a
/// truncated part yield what could be read. Work is bounded: at most `maximumParts` parts,
/// nested `maximumDepth` deep, and `maximumScan` bytes of text searched per part.
public struct DeliveryStatusReport: Sendable, Equatable {
    /// One per-recipient group of the report.
    public struct Recipient: Sendable, Equatable {
        /// `Final-Recipient`, its address type (`rfc822;`) dropped.
        public var finalRecipient: String?
        /// `Original-Recipient`, its address type dropped.
        public var originalRecipient: String?
        /// `Action`, lower case: `failed`, `delayed`, `delivered`, `relayed`, `expanded`.
        public var action: String?
        /// `Status` (RFC 3463), when it parses.
        public var status: DSNStatus?
        /// `Diagnostic-Code` without its type (`smtp;`): the remote server's reply.
        public var diagnostic: String?
        /// `Remote-MTA` without its type (`dns;`).
        public var remoteMTA: String?

        /// A recipient from parts.
        public init(
            finalRecipient: String? = nil, originalRecipient: String? = nil, action: String? = nil,
            status: DSNStatus? = nil, diagnostic: String? = nil, remoteMTA: String? = nil
        ) {
            self.finalRecipient = finalRecipient
            self.originalRecipient = originalRecipient
            self.action = action
            self.status = status
            self.diagnostic = diagnostic
            self.remoteMTA = remoteMTA
        }
    }

    /// Whether a `message/delivery-status` part was found.
    public var hasReport: Bool
    /// The per-recipient groups, in order (empty without a report).
    public var recipients: [Recipient]
    /// The status found in the text of a bounce without a report (or without a `Status`).
    public var textStatus: DSNStatus?
    /// The text's reply line holding `textStatus` (`550 5.1.1 user unknown`), shortened.
    public var textDiagnostic: String?
    /// The original message's Message-ID, from its returned header.
    public var originalMessageID: String?
    /// The original message's `To`, from its returned header.
    public var originalTo: String?
    /// The addresses of `X-Failed-Recipients` (Exim, Gmail), which bounces without a report carry.
    public var failedRecipients: [String]

    /// At most this many MIME parts are looked at.
    public static let maximumParts = 64
    /// Multiparts nested deeper than this are not opened.
    public static let maximumDepth = 6
    /// At most this many bytes of each text part are searched.
    public static let maximumScan = 64 * 1024

    /// Reads `message`.
    public init(message: Message) {
        hasReport = false
        recipients = []
        failedRecipients = message.values(of: "X-Failed-Recipients").flatMap { value in
            value.split(separator: ",").map { Self.bare($0) }.filter { !$0.isEmpty }
        }
        var budget = Self.maximumParts
        var texts: [[UInt8]] = []
        walk(fields: message.fields, body: message.body[...], depth: 0, budget: &budget, texts: &texts)
        let status = recipients.first?.status
        if status == nil || status?.isUndefined == true {
            for text in texts {
                if let (found, line) = DSNStatus.reply(in: text), status == nil || found.kind == status?.kind {
                    textStatus = found
                    textDiagnostic = line
                    break
                }
            }
        }
        if originalMessageID == nil {
            for text in texts {
                if let id = Self.copiedMessageID(in: text) {
                    originalMessageID = id
                    break
                }
            }
        }
    }

    /// The first recipient group, where a report about one message to one address has its facts.
    public var recipient: Recipient? { recipients.first }

    // MARK: Walking the MIME tree

    private mutating func walk(
        fields: [HeaderField], body: ArraySlice<UInt8>, depth: Int, budget: inout Int, texts: inout [[UInt8]]
    ) {
        guard budget > 0 else { return }
        budget -= 1
        let type = fields.first { $0.hasName("Content-Type") }.map { MediaType(parsing: $0.value) } ?? .textPlain
        let encoding = TransferEncoding(header: fields.first { $0.hasName("Content-Transfer-Encoding") }?.value)
        if type.isMultipart {
            guard depth < Self.maximumDepth, let boundary = type[parameter: "boundary"], !boundary.isEmpty else {
                return
            }
            for chunk in MIMEParts.split(Array(body), boundary: boundary) {
                guard budget > 0 else { return }
                let part = Self.header(of: chunk[...])
                walk(fields: part.fields, body: part.body, depth: depth + 1, budget: &budget, texts: &texts)
            }
            return
        }
        let decoded = encoding.decode(Array(body.prefix(Self.maximumScan * 4)))
        switch type.value {
        case "message/delivery-status", "message/global-delivery-status":
            hasReport = true
            readReport(decoded)
        case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers":
            let original = Self.header(of: decoded[...])
            readOriginal(original.fields)
        case let value where value.hasPrefix("text/"):
            if value == "text/plain" || texts.isEmpty { texts.append(Array(decoded.prefix(Self.maximumScan))) }
        default:
            break
        }
    }

    /// The report's field groups: the first is about the message, each further one a recipient.
    /// Some MTAs leave out the per-message group: a first group naming a recipient is one.
    private mutating func readReport(_ bytes: [UInt8]) {
        var groups = Self.fieldGroups(bytes[...])
        if let first = groups.first, !first.contains(where: { $0.name.lowercased() == "final-recipient" }) {
            groups.removeFirst()
        }
        for group in groups where recipients.count < Self.maximumParts {
            var recipient = Recipient()
            for (name, value) in group {
                switch name.lowercased() {
                case "final-recipient": recipient.finalRecipient = Self.typed(value)
                case "original-recipient": recipient.originalRecipient = Self.typed(value)
                case "action": recipient.action = value.trimmingSpaces.lowercased()
                case "status": recipient.status = DSNStatus(value.trimmingSpaces.prefix { $0 != " " && $0 != "(" })
                case "diagnostic-code": recipient.diagnostic = Self.shortened(Self.typed(value))
                case "remote-mta": recipient.remoteMTA = Self.typed(value)
                default: break
                }
            }
            if recipient.finalRecipient != nil || recipient.status != nil || recipient.action != nil {
                recipients.append(recipient)
            }
        }
    }

    private mutating func readOriginal(_ fields: [HeaderField]) {
        guard originalMessageID == nil else { return }
        for field in fields {
            switch field.name.lowercased() {
            case "message-id": originalMessageID = field.value
            case "to" where originalTo == nil: originalTo = field.value
            default: break
            }
        }
    }

    // MARK: Tolerant field reading

    /// A part's header fields (unfolded) and its body; lines that are not fields are skipped,
    /// so a broken part still gives what it has.
    static func header(of bytes: ArraySlice<UInt8>) -> (fields: [HeaderField], body: ArraySlice<UInt8>) {
        var fields: [HeaderField] = []
        var position = bytes.startIndex
        while position < bytes.endIndex {
            var end = position
            while end < bytes.endIndex && bytes[end] != 10 { end += 1 }
            var line = bytes[position..<end]
            if line.last == 13 { line = line.dropLast() }
            let next = end < bytes.endIndex ? end + 1 : end
            if line.isEmpty { return (fields, bytes[next...]) }
            if line.first == 32 || line.first == 9, let last = fields.popLast() {
                fields.append(HeaderField(name: last.name, raw: last.raw + Array(bytes[position..<next])))
            } else if let colon = line.firstIndex(of: 58), colon > line.startIndex,
                !line[..<colon].contains(where: { $0 == 32 || $0 == 9 })
            {
                fields.append(
                    HeaderField(
                        name: String(decoding: line[..<colon], as: UTF8.self), raw: Array(bytes[position..<next])))
            }
            position = next
        }
        return (fields, bytes[bytes.endIndex...])
    }

    /// The groups of fields of a delivery-status body, separated by blank lines.
    static func fieldGroups(_ bytes: ArraySlice<UInt8>) -> [[(name: String, value: String)]] {
        var groups: [[(name: String, value: String)]] = []
        var rest = bytes
        while !rest.isEmpty, groups.count <= maximumParts {
            let (fields, body) = header(of: rest)
            if !fields.isEmpty { groups.append(fields.map { ($0.name, $0.value) }) }
            guard body.startIndex > rest.startIndex else { break }
            rest = body
        }
        return groups
    }

    /// The value after an address or diagnostic type: `rfc822; a@b` gives `a@b`.
    static func typed(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return bare(value[...]) }
        let rest = value[value.index(after: semicolon)...]
        return value[..<semicolon].lowercased().contains("rfc822") ? bare(rest) : String(rest).trimmingSpaces
    }

    /// An address without spaces and angle brackets.
    static func bare(_ text: Substring) -> String {
        var address = String(text).trimmingSpaces
        if address.hasPrefix("<") && address.hasSuffix(">") && address.count >= 2 {
            address = String(address.dropFirst().dropLast())
        }
        return address
    }

    /// At most 300 characters: a diagnostic goes into log lines and the suppress file.
    static func shortened(_ text: String) -> String {
        let flat = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .joined(separator: " ")
        return flat.count > 300 ? String(flat.prefix(300)) + "..." : flat
    }

    /// The Message-ID of a header copied into a bounce's text (qmail, old Exim and Gmail
    /// return the message below a marker line): the first line that is a Message-ID field.
    static func copiedMessageID(in text: [UInt8]) -> String? {
        for line in text.split(separator: 10) {
            let trimmed = line.drop { $0 == 32 || $0 == 9 }
            guard trimmed.count > 11, trimmed.count < 1000,
                HeaderField.namesEqual(String(decoding: trimmed.prefix(11), as: UTF8.self), "Message-ID:")
            else { continue }
            let value = String(decoding: trimmed.dropFirst(11), as: UTF8.self).trimmingSpaces
            if MessageID.split(value) != nil { return value }
        }
        return nil
    }
}
