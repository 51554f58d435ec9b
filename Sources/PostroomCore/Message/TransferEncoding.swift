/// Content-Transfer-Encoding: how a body's bytes are carried as 7-bit lines.
public enum TransferEncoding: String, Sendable {
    /// ASCII lines of at most 998 octets, carried as they are.
    case sevenBit = "7bit"
    /// 8-bit lines, carried as they are (read, never written by postroom).
    case eightBit = "8bit"
    /// Raw bytes (read, never written by postroom).
    case binary
    /// RFC 2045 quoted-printable.
    case quotedPrintable = "quoted-printable"
    /// RFC 2045 base64, in lines of 76.
    case base64

    /// The encoding named in a Content-Transfer-Encoding value (unknown ones read as 8bit).
    public init(header value: String?) {
        self = value.flatMap { TransferEncoding(rawValue: $0.trimmingSpaces.lowercased()) } ?? .sevenBit
    }

    /// Decodes a body; invalid base64 is returned as it was rather than lost.
    public func decode(_ body: [UInt8]) -> [UInt8] {
        switch self {
        case .sevenBit, .eightBit, .binary: body
        case .base64: Base64.decode(body) ?? body
        case .quotedPrintable: QuotedPrintable.decode(body)
        }
    }

    /// Encodes a body with LF line endings.
    public func encode(_ body: [UInt8]) -> [UInt8] {
        switch self {
        case .sevenBit, .eightBit, .binary: body
        case .base64: Base64.encodedBytes(body, lineLength: 76, lineEnding: [10])
        case .quotedPrintable: QuotedPrintable.encode(body)
        }
    }

    /// The encoding for text: 7bit when it is ASCII with short lines, else the shorter of
    /// quoted-printable and base64.
    public static func forText(_ text: [UInt8]) -> TransferEncoding {
        encodeText(text).encoding
    }

    /// The encoding `forText` picks and the body encoded with it, encoding only once.
    public static func encodeText(_ text: [UInt8]) -> (encoding: TransferEncoding, body: [UInt8]) {
        if isSevenBitSafe(text) { return (.sevenBit, text) }
        let quoted = QuotedPrintable.encode(text)
        if quoted.count <= (text.count + 2) / 3 * 4 * 77 / 76 { return (.quotedPrintable, quoted) }
        return (.base64, TransferEncoding.base64.encode(text))
    }

    /// ASCII without NUL or bare CR, lines within 998 octets.
    package static func isSevenBitSafe(_ text: [UInt8]) -> Bool {
        var column = 0
        for byte in text {
            if byte >= 128 || byte == 0 || byte == 13 { return false }
            if byte == 10 {
                column = 0
                continue
            }
            column += 1
            if column > 998 { return false }
        }
        return true
    }
}

/// RFC 2045 section 6.7 quoted-printable for bodies, with LF line breaks.
public enum QuotedPrintable {
    /// Encodes text: lines of at most 76 characters with `=` soft breaks; `=`, non-ASCII,
    /// controls and trailing white space encoded; a line starting with `From ` or `.`
    /// protected so mbox readers and SMTP never alter it.
    public static func encode(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + text.count / 8)
        var line: [UInt8] = []
        var index = 0
        func emit(_ piece: [UInt8]) {
            if line.count + piece.count > 75 {
                out += line
                out += [UInt8(ascii: "="), 10]
                line.removeAll(keepingCapacity: true)
            }
            line += piece
        }
        func encoded(_ byte: UInt8) -> [UInt8] {
            var piece: [UInt8] = [UInt8(ascii: "=")]
            Hex.append(byte, to: &piece)
            return piece
        }
        while index < text.count {
            let byte = text[index]
            let atLineStart = line.isEmpty && (out.isEmpty || out.last == 10)
            if byte == 10 {
                out += line
                out.append(10)
                line.removeAll(keepingCapacity: true)
            } else if byte == 13 && index + 1 < text.count && text[index + 1] == 10 {
                // CRLF in the source is one line break.
            } else if byte == 32 || byte == 9 {
                let endOfLine =
                    index + 1 == text.count || text[index + 1] == 10
                    || (text[index + 1] == 13 && index + 2 < text.count && text[index + 2] == 10)
                emit(endOfLine ? encoded(byte) : [byte])
            } else if atLineStart
                && (byte == UInt8(ascii: ".")
                    || (byte == UInt8(ascii: "F") && text[index...].starts(with: "From ".utf8)))
            {
                emit(encoded(byte))
            } else if byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=") {
                emit([byte])
            } else {
                emit(encoded(byte))
            }
            index += 1
        }
        out += line
        return out
    }

    /// Decodes quoted-printable; malformed escapes are kept literally.
    public static func decode(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "=") {
                // Soft line break: '=' then optional white space then the line end.
                var look = index + 1
                while look < text.count, text[look] == 32 || text[look] == 9 { look += 1 }
                if look < text.count, text[look] == 10 {
                    index = look + 1
                    continue
                }
                if look + 1 < text.count, text[look] == 13, text[look + 1] == 10 {
                    index = look + 2
                    continue
                }
                if look == text.count { break }
                if index + 2 < text.count, let value = Hex.value(text[index + 1], text[index + 2]) {
                    out.append(value)
                    index += 3
                    continue
                }
            }
            out.append(byte)
            index += 1
        }
        return out
    }
}
