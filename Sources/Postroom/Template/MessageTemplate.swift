/// A template message compiled once: its Subject and text parts parsed by Stencil, its
/// other parts (files in the template) kept encoded, ready to copy into every message.
public final class MessageTemplate: @unchecked Sendable {
    /// The template's header fields, Subject and MIME fields included.
    public let header: Message
    /// The Subject, if the template has one.
    public let subject: TemplateText?
    /// The plain-text body.
    public let text: TemplateText?
    /// The HTML body.
    public let html: TemplateText?
    /// Non-text parts of the template, copied as they are.
    public let files: [Message]

    /// Compiles `bytes`; `source` names the template in errors.
    public init(_ bytes: [UInt8], source: String) throws(PostroomError) {
        let message = try Message(parsing: bytes, source: source)
        let entity = try MIMEEntity(message, source: source)
        header = message
        subject = try message.decodedValue(of: "Subject").map { (text) throws(PostroomError) in
            try TemplateText(text, name: "\(source) Subject", escapesHTML: false)
        }
        var text: TemplateText?
        var html: TemplateText?
        var files: [Message] = []
        for leaf in entity.leaves {
            let type = leaf.contentType.value
            if !leaf.isAttachment && type == "text/plain" && text == nil {
                let name = "\(source) text/plain part"
                text = try TemplateText(leaf.checkedText(part: name), name: name, escapesHTML: false)
            } else if !leaf.isAttachment && type == "text/html" && html == nil {
                let name = "\(source) text/html part"
                html = try TemplateText(leaf.checkedText(part: name), name: name, escapesHTML: true)
            } else {
                files.append(leaf.message)
            }
        }
        guard text != nil || html != nil else {
            throw .malformed(what: "template", location: source, reason: "no text/plain or text/html body to render")
        }
        self.text = text
        self.html = html
        self.files = files
    }

    /// The template's one From address; without exactly one, no message can be rendered.
    public func sender() throws(PostroomError) -> Mailbox {
        let fromValue = header.value(of: "From") ?? ""
        guard let from = try? AddressParser.parseList(fromValue).flatMap(\.mailboxes), from.count == 1 else {
            throw .malformed(
                what: "template", location: nil,
                reason: fromValue.isEmpty
                    ? "it has no From field; add one, such as From: Team <team@example.org>"
                    : "From must be exactly one address, found \"\(fromValue)\"")
        }
        return from[0]
    }

    /// The template's fields that every rendered message replaces or drops (Date,
    /// Message-ID, Cc, Bcc), so `submit` can say so rather than lose them silently.
    public var replacedFieldNames: [String] {
        header.fields.map(\.name).filter { ["date", "message-id", "cc", "bcc"].contains($0.lowercased()) }
    }
}

/// What a rendered message is made of, besides the template.
public struct RenderInput {
    /// The message's spool name (its Message-ID comes from it).
    public var name: MessageName
    /// The envelope recipient.
    public var envelopeTo: String
    /// The To display name.
    public var toName: String
    /// Which copy this is.
    public var copy: SendTo.Copy
    /// The recipient's record (`user`).
    public var recipient: JSONValue
    /// Shared variables, later ones winning.
    public var variables: [(name: String, value: String)]
    /// Files to attach, already encoded as MIME parts.
    public var attachments: [Message]
    /// Bulk mail headers wanted.
    public var isBulk: Bool
    /// The request the message came from, kept as a control field for lineage.
    public var request: String?

    /// An input from parts.
    public init(
        name: MessageName, envelopeTo: String, toName: String, copy: SendTo.Copy = .self,
        recipient: JSONValue = .object([]),
        variables: [(name: String, value: String)] = [], attachments: [Message] = [], isBulk: Bool = true,
        request: String? = nil
    ) {
        self.name = name
        self.envelopeTo = envelopeTo
        self.toName = toName
        self.copy = copy
        self.recipient = recipient
        self.variables = variables
        self.attachments = attachments
        self.isBulk = isBulk
        self.request = request
    }
}

/// Turns a compiled template and one recipient into the exact message to send.
public struct Renderer: Sendable {
    /// Allowed From domains; nil skips the check.
    public var sendingDomains: SendingDomains?
    /// The Message-ID domain; nil uses the From domain.
    public var messageIDDomain: String?
    /// Unsubscribe links; nil adds none.
    public var unsubscribe: Unsubscribe?
    /// Render missing values as empty instead of failing.
    public var allowsMissing = false
    /// The clock, for Date.
    public var now: @Sendable () -> Timestamp = { .now() }

    /// A renderer with these settings.
    public init(
        sendingDomains: SendingDomains? = nil, messageIDDomain: String? = nil, unsubscribe: Unsubscribe? = nil,
        allowsMissing: Bool = false
    ) {
        self.sendingDomains = sendingDomains
        self.messageIDDomain = messageIDDomain
        self.unsubscribe = unsubscribe
        self.allowsMissing = allowsMissing
    }

    /// Header fields the renderer sets itself; the template's own are dropped.
    static let replacedFields: Set<String> = [
        "subject", "to", "cc", "bcc", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding",
        "list-unsubscribe", "list-unsubscribe-post", "precedence", "auto-submitted",
    ]

    /// Renders one message.
    public func render(_ template: MessageTemplate, _ input: RenderInput) throws(PostroomError) -> Message {
        let from = try template.sender()
        try sendingDomains?.check(from: from.address)

        let time = now()
        var missing = Set<String>()
        let context = Self.context(input, unsubscribe: unsubscribe, issued: time)
        let subject = try template.subject?.render(context, missing: &missing)
        let text = try template.text?.render(context, missing: &missing)
        let html = try template.html?.render(context, missing: &missing)
        if !missing.isEmpty && !allowsMissing {
            throw .malformed(
                what: "job", location: nil,
                reason: "the data has no value for " + missing.sorted().map { "{{ \($0) }}" }.joined(separator: ", ")
                    + " (add the column or --var, or render with --allow-missing)")
        }

        var body: Message
        if let html {
            let plain = try MIMEWriter.text(text ?? HTMLText.plainText(from: html), subtype: "plain")
            body = try MIMEWriter.multipart(
                "alternative", parts: [plain, try MIMEWriter.text(html, subtype: "html")],
                boundarySeed: "a" + input.name.messageIDLocalPart)
        } else {
            body = try MIMEWriter.text(text ?? "", subtype: "plain")
        }
        let files = template.files + input.attachments
        if !files.isEmpty {
            body = try MIMEWriter.multipart(
                "mixed", parts: [body] + files, boundarySeed: "m" + input.name.messageIDLocalPart)
        }

        var message = Message()
        try message.append("Date", MessageDate.format(time.seconds))
        for field in template.header.fields
        where !Self.replacedFields.contains(field.name.lowercased()) && !ControlHeader.isControl(field.name) {
            try message.append(field: Self.encodingDisplayNames(field))
        }
        guard var to = try? Mailbox(parsing: input.envelopeTo), to.displayName == nil else {
            throw .malformed(
                what: "job", location: nil, reason: "the recipient \"\(input.envelopeTo)\" is not an address")
        }
        to.displayName = input.toName
        try message.append("To", to.formatted)
        if let subject { try message.append("Subject", subject) }
        try message.append("Message-ID", MessageID.make(for: input.name, domain: messageIDDomain ?? from.domain))
        if let unsubscribe {
            try message.append("List-Unsubscribe", unsubscribe.header(for: input.envelopeTo, issued: time))
            if unsubscribe.supportsOneClick {
                try message.append("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
            }
        }
        if input.isBulk {
            try message.append("Precedence", "bulk")
            try message.append("Auto-Submitted", "auto-generated")
        }
        try message.append("MIME-Version", "1.0")
        message.append(entity: body)
        message.setControl(.envelopeTo, input.envelopeTo)
        if let request = input.request { message.setControl(.request, request) }
        return message
    }

    /// An address field with non-ASCII display names rewritten as RFC 2047 encoded words,
    /// which is how a header carries them without SMTPUTF8; other fields are kept as written.
    static func encodingDisplayNames(_ field: HeaderField) throws(PostroomError) -> HeaderField {
        guard Address.headerFields.contains(field.name.lowercased()), field.raw.contains(where: { $0 >= 128 }) else {
            return field
        }
        let list: [Address]
        do throws(PostroomError) {
            list = try AddressParser.parseList(field.value)
        } catch {
            throw .malformed(
                what: "template", location: nil,
                reason: "the \(field.name) field is not an address list: \(error.description)")
        }
        return try HeaderWriter.field(field.name, Address.format(list))
    }

    /// The template context: `user`, `recipient`, `unsubscribe_url` (its token issued at
    /// `time`), then the shared variables (dotted names nest) merged over them, so
    /// `--var user.first_name=Ada` previews.
    static func context(_ input: RenderInput, unsubscribe: Unsubscribe?, issued time: Timestamp) -> [String: Any] {
        let root = TemplateRecord([
            "user": input.recipient.templateValue ?? TemplateRecord(),
            "recipient": TemplateRecord(["email": input.envelopeTo, "name": input.toName, "copy": input.copy.rawValue]),
        ])
        if let url = unsubscribe?.url(for: input.envelopeTo, issued: time) { root.assign(url, at: ["unsubscribe_url"]) }
        for (name, value) in input.variables {
            root.assign(value, at: name.split(separator: ".").map(String.init)[...])
        }
        return root.values
    }
}

extension Renderer {
    /// A renderer with the settings of `postroom.conf`.
    public static func configured(_ configuration: Configuration, allowsMissing: Bool) throws(PostroomError) -> Renderer
    {
        Renderer(
            sendingDomains: configuration.value(Configuration.sendingDomains).map(SendingDomains.init),
            messageIDDomain: configuration.value(Configuration.messageIDDomain),
            unsubscribe: try Unsubscribe.configured(configuration), allowsMissing: allowsMissing)
    }
}
