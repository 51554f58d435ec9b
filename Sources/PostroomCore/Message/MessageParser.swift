/// Reads RFC 5322 messages from bytes with LF or CRLF line endings.
///
/// Accepted: folded and repeated fields, 8-bit bytes in fields and body (kept as they are),
/// a message that ends after its header, an mbox `From ` line before the header.
/// Refused with the line number: an empty message, a NUL byte, a CR not followed by LF,
/// and a line in the header that is neither a field nor a continuation (a missing blank
/// line between header and body).
public enum MessageParser {
    /// Parses `bytes`. `source` names the input (a file name) in error messages.
    ///
    /// `isBodyPart` accepts what a MIME body part may be: an empty header, or nothing at all.
    public static func parse(
        _ bytes: [UInt8], source: String? = nil, isBodyPart: Bool = false
    ) throws(PostroomError)
        -> Message
    {
        func fail(_ line: Int, _ reason: String) -> PostroomError {
            .malformed(what: "message", location: "\(source ?? "input") line \(line)", reason: reason)
        }
        if isBodyPart && bytes.isEmpty {
            return Message(envelopeLine: nil, fields: [], separator: [], body: [], lineEnding: .lf)
        }
        guard !bytes.isEmpty else {
            throw .malformed(
                what: "message", location: source,
                reason: "the input is empty; expected header fields, a blank line and a body")
        }
        if let problem = firstForbiddenByte(bytes) {
            throw fail(problem.line, problem.reason)
        }

        var position = 0
        var lineNumber = 1
        var lineEnding: Message.LineEnding = .lf
        var envelopeLine: [UInt8]?
        var fields: [HeaderField] = []

        let firstEnd = lineEnd(bytes, from: 0)
        if firstEnd.contentEnd > 0 && bytes[firstEnd.contentEnd - 1] == 13 { lineEnding = .crlf }
        if !isBodyPart && bytes.starts(with: "From ".utf8) {
            envelopeLine = Array(bytes[0..<firstEnd.next])
            position = firstEnd.next
            lineNumber += 1
        }

        while position < bytes.count {
            let line = lineEnd(bytes, from: position)
            let content = bytes[position..<trimmedEnd(bytes, position, line.contentEnd)]
            if content.isEmpty {
                guard !fields.isEmpty || isBodyPart else {
                    throw fail(lineNumber, "the message starts with an empty line: no header fields found")
                }
                // The blank line: everything after it is the body.
                return Message(
                    envelopeLine: envelopeLine, fields: fields, separator: Array(bytes[position..<line.next]),
                    body: Array(bytes[line.next...]), lineEnding: lineEnding)
            }
            guard let nameEnd = fieldNameEnd(content) else {
                let preview = String(decoding: content.prefix(40), as: UTF8.self)
                if content.first == 32 || content.first == 9 {
                    throw fail(lineNumber, "a continuation line (\"\(preview)\") comes before any header field")
                }
                throw fail(
                    lineNumber,
                    "\"\(preview)\" is not a header field (Name: value); the header must end with an empty line before the body"
                )
            }
            // Gather continuation lines (those starting with space or tab).
            var end = line.next
            var lines = 1
            while end < bytes.count, bytes[end] == 32 || bytes[end] == 9 {
                end = lineEnd(bytes, from: end).next
                lines += 1
            }
            // fieldNameEnd stops at the first byte that is not a name byte, so no trimming is needed.
            let name = String(decoding: content[content.startIndex..<nameEnd], as: UTF8.self)
            fields.append(HeaderField(name: name, raw: Array(bytes[position..<end])))
            position = end
            lineNumber += lines
        }
        if fields.isEmpty {
            throw .malformed(what: "message", location: source, reason: "no header fields found")
        }
        // The input ended inside the header: a valid message with no body.
        return Message(envelopeLine: envelopeLine, fields: fields, separator: [], body: [], lineEnding: lineEnding)
    }

    /// The first NUL or bare CR, with its line number and a reason.
    static func firstForbiddenByte(_ bytes: [UInt8]) -> (line: Int, reason: String)? {
        var line = 1
        var index = 0
        let count = bytes.count
        while index < count {
            switch bytes[index] {
            case 10:
                line += 1
            case 0:
                return (line, "contains a NUL byte; mail must be text, encode binary data as base64")
            case 13:
                if index + 1 >= count || bytes[index + 1] != 10 {
                    return (line, "contains a CR not followed by LF; use LF or CRLF line endings only")
                }
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// The end of the line's content (before LF) and the start of the next line.
    private static func lineEnd(_ bytes: [UInt8], from start: Int) -> (contentEnd: Int, next: Int) {
        var index = start
        while index < bytes.count && bytes[index] != 10 { index += 1 }
        return (index, index < bytes.count ? index + 1 : index)
    }

    /// Drops the CR of a CRLF from a line's content.
    private static func trimmedEnd(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int {
        end > start && bytes[end - 1] == 13 ? end - 1 : end
    }

    /// Where the field name ends (the colon's index), when the line starts a field.
    ///
    /// Names are printable ASCII other than the colon; whitespace before the colon is
    /// the obsolete syntax RFC 5322 section 4.5 still asks readers to accept.
    private static func fieldNameEnd(_ line: ArraySlice<UInt8>) -> Int? {
        var index = line.startIndex
        while index < line.endIndex, line[index] >= 33, line[index] <= 126, line[index] != 58 { index += 1 }
        guard index > line.startIndex else { return nil }
        var colon = index
        while colon < line.endIndex, line[colon] == 32 || line[colon] == 9 { colon += 1 }
        guard colon < line.endIndex, line[colon] == 58 else { return nil }
        return index
    }
}
