import Glibc

/// RFC 2047 encoded words: `=?UTF-8?B?...?=` and `=?UTF-8?Q?...?=`.
public enum EncodedWord {
    /// The longest encoded word RFC 2047 allows.
    public static let maximumLength = 75
    /// `=?UTF-8?X?` plus `?=`.
    static let overhead = 12

    /// The two encodings RFC 2047 defines.
    public enum Encoding: Sendable {
        /// Base64: compact for text that is mostly non-ASCII.
        case base64
        /// Quoted-printable for headers: readable for text that is mostly ASCII.
        case quoted
    }

    /// Encodes `text` as UTF-8 encoded words, none longer than `limit`; the first one
    /// no longer than `firstLimit`, so it can fill the rest of a partly used line.
    ///
    /// Words end on character (grapheme) boundaries, falling back to Unicode scalar
    /// boundaries only for a grapheme too long for one word, so no UTF-8 sequence is
    /// ever split. Concatenating the decoded words gives `text` back exactly.
    public static func encode(_ text: String, firstLimit: Int = maximumLength, limit: Int = maximumLength) -> [String] {
        let encoding = preferredEncoding(for: Array(text.utf8))
        var words: [String] = []
        var chunk: [UInt8] = []
        var currentLimit = max(firstLimit, overhead + 12)

        func flush() {
            guard !chunk.isEmpty else { return }
            words.append(word(chunk, encoding))
            chunk.removeAll(keepingCapacity: true)
            currentLimit = limit
        }
        func add(_ bytes: [UInt8]) -> Bool {
            if encodedLength(chunk + bytes, encoding) + overhead <= currentLimit {
                chunk += bytes
                return true
            }
            return false
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if add(bytes) { continue }
            flush()
            if add(bytes) { continue }
            // One grapheme (long combining or ZWJ sequence) exceeds a word: split by scalar.
            for scalar in character.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                if !add(scalarBytes) {
                    flush()
                    _ = add(scalarBytes)
                }
            }
        }
        flush()
        return words
    }

    /// Base64 unless quoted-printable is shorter.
    static func preferredEncoding(for bytes: [UInt8]) -> Encoding {
        encodedLength(bytes, .quoted) <= encodedLength(bytes, .base64) ? .quoted : .base64
    }

    /// The length of the encoded text (without the `=?...?` frame).
    static func encodedLength(_ bytes: [UInt8], _ encoding: Encoding) -> Int {
        switch encoding {
        case .base64: return (bytes.count + 2) / 3 * 4
        case .quoted: return bytes.reduce(0) { $0 + (isQSafe($1) || $1 == 32 ? 1 : 3) }
        }
    }

    /// Characters RFC 2047 section 5 (3) allows unencoded in a Q word anywhere, phrases included.
    static func isQSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    static func word(_ bytes: [UInt8], _ encoding: Encoding) -> String {
        switch encoding {
        case .base64:
            return "=?UTF-8?B?" + Base64.encode(bytes) + "?="
        case .quoted:
            var out = "=?UTF-8?Q?"
            for byte in bytes {
                if isQSafe(byte) {
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                } else if byte == 32 {
                    out += "_"
                } else {
                    out += "=" + Hex.upper(byte)
                }
            }
            return out + "?="
        }
    }

    // MARK: Decoding

    /// Decodes every encoded word in an unstructured value.
    ///
    /// Whitespace between two adjacent encoded words is dropped, as RFC 2047 requires;
    /// adjacent words in one charset are joined before decoding, so a character split
    /// across words by a careless sender still comes out whole. Malformed words stay as written.
    public static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        let bytes = Array(value.utf8)
        var output = ""
        var pending: (charset: String, bytes: [UInt8])?
        var literalStart = 0
        var index = 0

        func flushPending() {
            if let run = pending { output += Charset.decode(run.bytes, charset: run.charset) }
            pending = nil
        }
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "?"),
                let parsed = parseWord(bytes, at: index)
            {
                let literal = Array(bytes[literalStart..<index])
                let onlySpace = literal.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }
                if pending != nil && onlySpace {
                    // Whitespace between encoded words disappears.
                } else {
                    flushPending()
                    output += String(decoding: literal, as: UTF8.self)
                }
                if let run = pending, run.charset == parsed.charset {
                    pending = (run.charset, run.bytes + parsed.bytes)
                } else {
                    flushPending()
                    pending = (parsed.charset, parsed.bytes)
                }
                index = parsed.end
                literalStart = index
                continue
            }
            index += 1
        }
        flushPending()
        output += String(decoding: bytes[literalStart...], as: UTF8.self)
        return output
    }

    /// Parses one `=?charset?enc?text?=` at `start`.
    private static func parseWord(_ bytes: [UInt8], at start: Int) -> (charset: String, bytes: [UInt8], end: Int)? {
        var index = start + 2
        func field() -> [UInt8]? {
            let begin = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
                if bytes[index] == 32 || bytes[index] == 9 { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return Array(bytes[begin..<index])
        }
        guard let charsetBytes = field(), !charsetBytes.isEmpty, let encodingBytes = field(), encodingBytes.count == 1,
            let text = field(), index < bytes.count, bytes[index] == UInt8(ascii: "=")
        else { return nil }
        // RFC 2231 allows a language after '*' in the charset.
        let charset = String(decoding: charsetBytes.prefix { $0 != UInt8(ascii: "*") }, as: UTF8.self).lowercased()
        let decoded: [UInt8]?
        switch encodingBytes[0] | 0x20 {
        case UInt8(ascii: "b"): decoded = Base64.decode(text)
        case UInt8(ascii: "q"): decoded = decodeQ(text)
        default: decoded = nil
        }
        guard let decoded else { return nil }
        return (charset, decoded, index + 1)
    }

    private static func decodeQ(_ text: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "_") {
                out.append(32)
            } else if byte == UInt8(ascii: "=") {
                guard index + 2 < text.count, let value = Hex.value(text[index + 1], text[index + 2]) else {
                    return nil
                }
                out.append(value)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return out
    }
}

/// Conversion of text in a named charset to Swift strings.
package enum Charset {
    /// Decodes `bytes` in `charset`; unknown charsets and invalid bytes give U+FFFD, never a crash.
    package static func decode(_ bytes: [UInt8], charset: String) -> String {
        switch charset.lowercased() {
        case "utf-8", "utf8", "us-ascii", "ascii":
            return String(decoding: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "iso_8859-1", "l1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default:
            return convert(bytes, from: charset) ?? String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Decodes `bytes` in `charset`, or nil when they are not valid in it or iconv does not know it.
    package static func decodeExactly(_ bytes: [UInt8], charset: String) -> String? {
        switch charset.lowercased() {
        case "utf-8", "utf8", "us-ascii", "ascii": String(validating: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "iso_8859-1", "l1": decode(bytes, charset: charset)
        default: convert(bytes, from: charset)
        }
    }

    /// Converts through iconv(3) to UTF-8.
    private static func convert(_ bytes: [UInt8], from charset: String) -> String? {
        let converter = iconv_open("UTF-8", charset)
        guard let converter, converter != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(converter) }
        var input = bytes.map { CChar(bitPattern: $0) }
        var output = [CChar](repeating: 0, count: bytes.count * 4 + 16)
        let produced: Int? = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer = inBuffer.baseAddress
                var inLeft = inBuffer.count
                var outPointer = outBuffer.baseAddress
                var outLeft = outBuffer.count
                let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                return result == -1 ? nil : outBuffer.count - outLeft
            }
        }
        guard let produced else { return nil }
        return String(decoding: output[0..<produced].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Hexadecimal digits for quoted-printable and escapes.
package enum Hex {
    private static let digits = Array("0123456789ABCDEF".utf8)
    private static let lowerDigits = Array("0123456789abcdef".utf8)

    /// `"3D"` for 0x3D.
    package static func upper(_ byte: UInt8) -> String {
        String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    /// The two digits appended to `out`.
    package static func append(_ byte: UInt8, to out: inout [UInt8], lowercase: Bool = false) {
        let table = lowercase ? lowerDigits : digits
        out.append(table[Int(byte >> 4)])
        out.append(table[Int(byte & 0xF)])
    }

    /// The byte of two hex digits, either case.
    package static func value(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let h = nibble(high), let l = nibble(low) else { return nil }
        return h << 4 | l
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
