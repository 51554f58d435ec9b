extension Message {
    /// The header decoded for people: encoded words and control escapes undone, one field a line.
    ///
    /// `cat` shows a spool file as it is stored; this shows what it means.
    public var inspection: String {
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
        let ending = lineEnding == .crlf ? "CRLF" : "LF"
        let bodyNote = separator.isEmpty ? "no body" : "body \(body.count) bytes"
        lines.append("(\(fields.count) header fields, \(bodyNote), \(ending) line endings)")
        return lines.joined(separator: "\n") + "\n"
    }
}
