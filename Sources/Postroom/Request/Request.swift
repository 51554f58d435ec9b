/// A submitted request: a template, a recipient list, shared variables and attachments,
/// kept together in one immutable file in `request/`.
///
/// On disk it is a `multipart/mixed` message whose parts are marked by
/// `X-Postroom-Part`: the template (`message/rfc822`), the recipient list (`text/csv` or
/// `application/x-ndjson`) and any attachments. Apps can write one with any MIME library.
public struct Request: Sendable {
    /// A file to attach to every message.
    public struct Attachment: Sendable, Equatable {
        /// The file name recipients see.
        public var fileName: String
        /// The MIME type (found with libmagic when submitted).
        public var mediaType: String
        /// The file's bytes.
        public var content: [UInt8]

        /// An attachment from parts.
        public init(fileName: String, mediaType: String, content: [UInt8]) {
            self.fileName = fileName
            self.mediaType = mediaType
            self.content = content
        }
    }

    /// The template message: Subject and body in Django syntax.
    public var template: [UInt8]
    /// The recipient list.
    public var recipients: RecipientList
    /// Whose copies to make.
    public var sendTo: SendTo
    /// Shared template variables, `program.niceName` style names.
    public var variables: [(name: String, value: String)]
    /// Files attached to every message.
    public var attachments: [Attachment]
    /// Whether the mail is bulk (adds Precedence: bulk and Auto-Submitted: auto-generated).
    public var isBulk: Bool

    /// A request from parts; the template is checked to parse.
    public init(
        template: [UInt8], recipients: RecipientList, sendTo: SendTo, variables: [(name: String, value: String)] = [],
        attachments: [Attachment] = [], isBulk: Bool = true
    ) throws(PostroomError) {
        _ = try Message(parsing: template, source: "the template")
        self.template = template
        self.recipients = recipients
        self.sendTo = sendTo
        self.variables = variables
        self.attachments = attachments
        self.isBulk = isBulk
    }

    /// Parses `--var NAME=VALUE`.
    public static func variable(_ text: String) throws(PostroomError) -> (name: String, value: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw .usage("--var needs NAME=VALUE, got \"\(text)\"")
        }
        let name = String(text[..<equals])
        guard
            name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ part in
                !part.isEmpty && part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
            })
        else {
            throw .usage("variable name \"\(name)\" must be letters, digits and _ separated by dots (program.niceName)")
        }
        return (name, String(text[text.index(after: equals)...]))
    }

    /// The request file's bytes.
    public func encoded(seed: String) throws(PostroomError) -> [UInt8] {
        let templateMessage = try Message(parsing: template, source: "the template")
        var templatePart = Message()
        try templatePart.append("Content-Type", "message/rfc822")
        try templatePart.append("Content-Disposition", "inline; filename=template.eml")
        templatePart.appendControl(.part, "template")
        templatePart.body = WireFormat.lf(templateMessage.bytes)

        var recipientsPart = try MIMEWriter.leaf(
            contentType: MediaType(recipients.format.mediaType, parameters: [("charset", "utf-8")]),
            body: recipients.bytes, encoding: TransferEncoding.isSevenBitSafe(recipients.bytes) ? .sevenBit : .base64,
            extraFields: [
                (
                    "Content-Disposition",
                    MediaType("attachment", parameters: [("filename", FileSystem.baseName(recipients.source))])
                        .description
                )
            ])
        recipientsPart.appendControl(.part, "recipients")

        var parts = [templatePart, recipientsPart]
        for attachment in attachments {
            var part = try MIMEWriter.leaf(
                contentType: MediaType(attachment.mediaType), body: attachment.content, encoding: .base64,
                extraFields: [
                    (
                        "Content-Disposition",
                        MediaType("attachment", parameters: [("filename", attachment.fileName)]).description
                    )
                ])
            part.appendControl(.part, "attachment")
            parts.append(part)
        }
        var message = Message()
        message.setControl(.sendTo, sendTo.description)
        for (name, value) in variables { message.appendControl(.variable, "\(name)=\(value)") }
        message.setControl(.bulk, isBulk ? "yes" : "no")
        message.setControl(.recipients, recipients.source)
        if let subject = templateMessage.value(of: "Subject") { try message.append("Subject", subject) }
        try message.append("MIME-Version", "1.0")
        message.append(entity: try MIMEWriter.multipart("mixed", parts: parts, boundarySeed: seed))
        return message.bytes
    }

    /// Reads a request file; `source` names it in errors.
    public init(parsing bytes: [UInt8], source: String) throws(PostroomError) {
        let message = try Message(parsing: bytes, source: source)
        let entity = try MIMEEntity(message, source: source)
        func fail(_ reason: String) -> PostroomError { .malformed(what: "request", location: source, reason: reason) }
        guard entity.contentType.isMultipart else {
            throw fail("a request is a multipart/mixed message with template and recipients parts (see postroom(7))")
        }
        var template: [UInt8]?
        var recipients: RecipientList?
        var attachments: [Attachment] = []
        for part in entity.parts {
            let role = part.message.control(.part) ?? ""
            if role == "template" || (role.isEmpty && template == nil && part.contentType.value == "message/rfc822") {
                template = part.message.body
            } else if role == "recipients"
                || (role.isEmpty && recipients == nil
                    && ["text/csv", "application/x-ndjson", "application/jsonl"].contains(part.contentType.value))
            {
                let body = part.decodedBody
                let name = part.fileName ?? "recipients"
                let format: RecipientList.Format = part.contentType.value == "text/csv" ? .csv : .jsonLines
                recipients = RecipientList(bytes: body, format: format, source: "\(source) (\(name))")
            } else {
                attachments.append(
                    Attachment(
                        fileName: part.fileName ?? "attachment-\(attachments.count + 1)",
                        mediaType: part.contentType.value,
                        content: part.decodedBody))
            }
        }
        guard let template else { throw fail("no template part (X-Postroom-Part: template, message/rfc822)") }
        guard let recipients else {
            throw fail("no recipients part (X-Postroom-Part: recipients, text/csv or application/x-ndjson)")
        }
        let sendTo =
            try message.control(.sendTo).map { (text) throws(PostroomError) in try SendTo(parsing: text) } ?? .selfOnly
        var variables: [(name: String, value: String)] = []
        for text in message.controls(.variable) { variables.append(try Self.variable(text)) }
        try self.init(
            template: template, recipients: recipients, sendTo: sendTo, variables: variables, attachments: attachments,
            isBulk: message.control(.bulk)?.lowercased() != "no")
    }
}

extension Request {
    /// Builds a request from files, as `postroom submit` and `expand` are given them.
    ///
    /// The recipient list and attachments are read now, so later edits to the files change
    /// nothing; attachment types come from libmagic. A list with no valid address is refused.
    public static func fromFiles(
        template: [UInt8], recipientsPath: String, sendTo: SendTo, variables: [(name: String, value: String)],
        attachmentPaths: [String], isBulk: Bool
    ) throws(PostroomError) -> Request {
        let listBytes = try FileSystem.readFile(recipientsPath)
        let list = RecipientList(
            bytes: listBytes, format: .detect(fileName: recipientsPath, bytes: listBytes),
            source: FileSystem.baseName(recipientsPath))
        try list.validateHeader()
        var attachments: [Attachment] = []
        for path in attachmentPaths {
            let content = try FileSystem.readFile(path)
            attachments.append(
                Attachment(
                    fileName: FileSystem.baseName(path), mediaType: MediaTypeDetector.shared.mediaType(of: content),
                    content: content))
        }
        let request = try Request(
            template: template, recipients: list, sendTo: sendTo, variables: variables, attachments: attachments,
            isBulk: isBulk)
        try request.checkSomeAddressIsValid()
        return request
    }

    /// Compiles the template as `render` will and checks its From, so a template that could
    /// never render is refused at submission. Returns warnings for fields `render` replaces.
    public func checkTemplate() throws(PostroomError) -> [String] {
        let compiled = try MessageTemplate(template, source: "the template")
        _ = try compiled.sender()
        let replaced = compiled.replacedFieldNames
        guard !replaced.isEmpty else { return [] }
        return [
            "the template's \(replaced.joined(separator: ", ")) will not be sent: every message gets its own "
                + "Date and Message-ID, and only its one recipient in To (see postroom-render(8))"
        ]
    }
}
