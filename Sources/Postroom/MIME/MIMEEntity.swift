/// A MIME entity: a header and either a body or, for `multipart/*`, child entities.
public struct MIMEEntity: Sendable {
    /// The entity's header fields (and, for a leaf, its encoded body).
    public var message: Message
    /// The parsed Content-Type (text/plain when absent).
    public var contentType: MediaType
    /// The children of a multipart entity, in order.
    public var parts: [MIMEEntity]

    /// Parses a message or body part into a tree; `source` names it in errors.
    public init(_ message: Message, source: String? = nil, depth: Int = 0) throws(PostroomError) {
        self.message = message
        contentType = message.value(of: "Content-Type").map(MediaType.init(parsing:)) ?? .textPlain
        parts = []
        guard contentType.isMultipart else { return }
        guard depth < 20 else {
            throw .malformed(
                what: "MIME message", location: source, reason: "multipart parts are nested more than 20 deep")
        }
        guard let boundary = contentType[parameter: "boundary"], !boundary.isEmpty else {
            throw .malformed(
                what: "MIME message", location: source, reason: "\(contentType.value) has no boundary parameter")
        }
        for (index, chunk) in MIMEParts.split(message.body, boundary: boundary).enumerated() {
            let part = try MessageParser.parse(
                chunk, source: source.map { "\($0) part \(index + 1)" }, isBodyPart: true)
            parts.append(try MIMEEntity(part, source: source, depth: depth + 1))
        }
    }

    /// A leaf entity with the given header fields and encoded body.
    public init(leaf message: Message) {
        self.message = message
        contentType = message.value(of: "Content-Type").map(MediaType.init(parsing:)) ?? .textPlain
        parts = []
    }

    /// The body with its Content-Transfer-Encoding undone.
    public var decodedBody: [UInt8] {
        TransferEncoding(header: message.value(of: "Content-Transfer-Encoding")).decode(message.body)
    }

    /// The body as text, converted from its charset to UTF-8.
    public var text: String {
        Charset.decode(decodedBody, charset: contentType[parameter: "charset"] ?? "us-ascii")
    }

    /// The body as text, refusing bytes its charset does not allow (UTF-8 when none is
    /// declared) with the line they are on, instead of turning them into U+FFFD.
    ///
    /// `part` names the entity in the error (`welcome.eml text/plain part`).
    public func checkedText(part: String) throws(PostroomError) -> String {
        let bytes = decodedBody
        let declared = contentType[parameter: "charset"]
        let charset = declared?.lowercased() ?? "utf-8"
        // US-ASCII mislabelling UTF-8 is common and harmless; other bytes are not.
        guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(charset) else {
            guard let text = Charset.decodeExactly(bytes, charset: charset) else {
                throw .malformed(
                    what: "template", location: part,
                    reason: "its bytes are not valid \(declared ?? charset) (or iconv does not know the charset); "
                        + "fix the charset parameter or save the template as UTF-8")
            }
            return text
        }
        for (index, line) in bytes.split(separator: 10, omittingEmptySubsequences: false).enumerated()
        where String(validating: line, as: UTF8.self) == nil {
            let preview = String(decoding: line.prefix(40), as: UTF8.self)
            throw .malformed(
                what: "template", location: "\(part) body line \(index + 1)",
                reason: "\"\(preview)\" is not UTF-8"
                    + (declared == nil ? " and the part declares no charset" : " as the part declares")
                    + "; save the template as UTF-8, or declare its charset (Content-Type: text/plain; charset=iso-8859-1)"
            )
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the entity is an attachment rather than a body to display.
    public var isAttachment: Bool {
        let disposition = message.value(of: "Content-Disposition").map(MediaType.init(parsing:))
        return disposition?.value == "attachment" || (contentType.type != "text" && !contentType.isMultipart)
    }

    /// The file name from Content-Disposition or Content-Type, if any.
    public var fileName: String? {
        message.value(of: "Content-Disposition").map(MediaType.init(parsing:))?[parameter: "filename"]
            ?? contentType[parameter: "name"]
    }

    /// Every leaf, depth first.
    public var leaves: [MIMEEntity] {
        parts.isEmpty ? [self] : parts.flatMap(\.leaves)
    }
}

/// Writes MIME entities with LF line endings, as the spool stores messages.
public enum MIMEWriter {
    /// A leaf part: header fields for the type and encoding, then the encoded body.
    public static func leaf(
        contentType: MediaType, body: [UInt8], encoding: TransferEncoding, extraFields: [(String, String)] = []
    ) throws(PostroomError) -> Message {
        try leaf(
            contentType: contentType, encodedBody: encoding.encode(body), encoding: encoding, extraFields: extraFields)
    }

    /// A leaf part whose body is already in `encoding`.
    static func leaf(
        contentType: MediaType, encodedBody: [UInt8], encoding: TransferEncoding, extraFields: [(String, String)] = []
    ) throws(PostroomError) -> Message {
        var message = Message()
        try message.append("Content-Type", contentType.description)
        try message.append("Content-Transfer-Encoding", encoding.rawValue)
        for (name, value) in extraFields { try message.append(name, value) }
        message.body = encodedBody
        return message
    }

    /// A text part, UTF-8 unless it is plain ASCII.
    public static func text(_ text: String, subtype: String) throws(PostroomError) -> Message {
        var bytes = Array(text.utf8)
        if let last = bytes.last, last != 10 { bytes.append(10) }
        let (encoding, body) = TransferEncoding.encodeText(bytes)
        let charset = bytes.allSatisfy { $0 < 128 } ? "us-ascii" : "utf-8"
        return try leaf(
            contentType: MediaType("text/\(subtype)", parameters: [("charset", charset)]), encodedBody: body,
            encoding: encoding)
    }

    /// A multipart entity whose boundary occurs in none of its parts; `parameters` go before
    /// the boundary in its Content-Type (`report-type` for `multipart/report`).
    public static func multipart(
        _ subtype: String, parameters: [(name: String, value: String)] = [], parts: [Message], boundarySeed: String
    ) throws(PostroomError) -> Message {
        let encoded = parts.map(\.bytes)
        var attempt = 0
        var boundary = "=_pr_\(boundarySeed)"
        while encoded.contains(where: { contains($0, Array(boundary.utf8)) }) {
            attempt += 1
            boundary = "=_pr_\(boundarySeed)_\(attempt)_\(UInt64.random(in: 0...UInt64.max))"
        }
        var message = Message()
        try message.append(
            "Content-Type",
            MediaType("multipart/\(subtype)", parameters: parameters + [("boundary", boundary)]).description)
        var body: [UInt8] = []
        for part in encoded {
            body += Array("--\(boundary)\n".utf8)
            body += part
            // The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
            body.append(10)
        }
        body += Array("--\(boundary)--\n".utf8)
        message.body = body
        return message
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
