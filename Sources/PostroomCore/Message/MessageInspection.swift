extension Message {
    /// The header decoded for people: encoded words and control escapes undone, one field a line.
    ///
    /// `cat` shows a spool file as it is stored; this shows what it means.
    public var inspection: String {
        var lines = Self.inspectionLines(fields)
        let ending = lineEnding == .crlf ? "CRLF" : "LF"
        let bodyNote = separator.isEmpty ? "no body" : "body \(body.count) bytes"
        lines.append("(\(fields.count) header fields, \(bodyNote), \(ending) line endings)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// What can be shown of bytes that do not parse as a message: the control fields a
    /// stage put in front of it when it moved it to `failed/` (the reason, decoded), then
    /// why the rest does not parse. Nil when the bytes do not start with control fields.
    public static func inspection(ofUnparsable bytes: [UInt8], error: PostroomError) -> String? {
        guard let prefix = leadingControlFields(of: bytes) else { return nil }
        var lines = inspectionLines(prefix.fields)
        lines.append(
            "(\(prefix.fields.count) control fields; the message after them does not parse: \(error.description))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The control fields a stage put in front of bytes that do not parse as a message (the
    /// failure's reason, see `Claim.fail`), as a header; nil when the bytes do not start with any.
    public static func leadingControlFields(of bytes: [UInt8]) -> Message? {
        var end = 0
        while end < bytes.count {
            let next = bytes[end...].firstIndex(of: 10).map { $0 + 1 } ?? bytes.count
            let line = bytes[end..<next]
            let name = String(decoding: line.prefix { $0 != UInt8(ascii: ":") && $0 != 10 }, as: UTF8.self)
            let continues = end > 0 && (line.first == 32 || line.first == 9)
            guard continues || (line.contains(UInt8(ascii: ":")) && ControlHeader.isControl(name)) else { break }
            end = next
        }
        guard end > 0 else { return nil }
        return try? Message(parsing: Array(bytes[..<end]))
    }

    private static func inspectionLines(_ fields: [HeaderField]) -> [String] {
        var lines: [String] = []
        for field in fields {
            let value =
                ControlHeader.isControl(field.name)
                ? (ControlHeader.decode(field.value) ?? field.value) : field.decodedValue
            // Multi-line control values (a failure report) stay readable, indented.
            lines.append(
                "\(field.name): "
                    + value.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
                    .joined(separator: "\n    "))
        }
        return lines
    }
}
