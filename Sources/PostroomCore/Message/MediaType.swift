/// A Content-Type (or Content-Disposition) value: `type/subtype; name=value; ...`.
public struct MediaType: Sendable, Equatable, CustomStringConvertible {
    /// `text/plain`, lower case; for Content-Disposition, `attachment` or `inline`.
    public var value: String
    /// Parameters in order, names in lower case, values decoded (RFC 2231 included).
    public var parameters: [(name: String, value: String)]

    /// A media type with parameters.
    public init(_ value: String, parameters: [(name: String, value: String)] = []) {
        self.value = value.lowercased()
        self.parameters = parameters
    }

    public static func == (lhs: MediaType, rhs: MediaType) -> Bool {
        lhs.value == rhs.value
            && lhs.parameters.elementsEqual(rhs.parameters) { $0.name == $1.name && $0.value == $1.value }
    }

    /// The default for a part without Content-Type (RFC 2045 5.2).
    public static let textPlain = MediaType("text/plain", parameters: [("charset", "us-ascii")])

    /// The top-level type: `text` of `text/plain`.
    public var type: Substring { value.split(separator: "/").first ?? "" }

    /// Whether this is any `multipart/*` type.
    public var isMultipart: Bool { type == "multipart" }

    /// A parameter's value, by name, ignoring case.
    public subscript(parameter name: String) -> String? {
        parameters.last { $0.name == name.lowercased() }?.value
    }

    /// Parses a header value; malformed parameters are skipped rather than fatal.
    public init(parsing text: String) {
        var pieces = Self.splitParameters(text)
        value = pieces.isEmpty ? "" : pieces.removeFirst().trimmingSpaces.lowercased()
        var plain: [(String, String)] = []
        var extended: [String: [(Int, String, Bool)]] = [:]
        for piece in pieces {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingSpaces.lowercased()
            var raw = piece[piece.index(after: equals)...].trimmingSpaces
            if raw.hasPrefix("\"") && raw.hasSuffix("\"") && raw.count >= 2 {
                raw = Self.unquote(String(raw.dropFirst().dropLast()))
            }
            // RFC 2231: name*=charset'lang'pct-encoded and name*0=, name*1=, ...
            var encoded = false
            if name.hasSuffix("*") {
                encoded = true
                name.removeLast()
            }
            if let star = name.firstIndex(of: "*"), let section = Int(name[name.index(after: star)...]) {
                extended[String(name[..<star]), default: []].append((section, raw, encoded))
                continue
            }
            if encoded {
                extended[name, default: []].append((0, raw, true))
                continue
            }
            plain.append((name, raw))
        }
        for (name, sections) in extended {
            let ordered = sections.sorted { $0.0 < $1.0 }
            var bytes: [UInt8] = []
            var charset = "utf-8"
            for (index, section) in ordered.enumerated() {
                var text = section.1
                if section.2 {
                    if index == 0, let first = text.firstIndex(of: "'"),
                        let second = text[text.index(after: first)...].firstIndex(of: "'")
                    {
                        charset = String(text[..<first]).isEmpty ? "us-ascii" : String(text[..<first])
                        text = String(text[text.index(after: second)...])
                    }
                    bytes += Self.percentDecode(text)
                } else {
                    bytes += Array(text.utf8)
                }
            }
            plain.removeAll { $0.0 == name }
            plain.append((name, Charset.decode(bytes, charset: charset)))
        }
        parameters = plain.map { (name: $0.0, value: $0.1) }
    }

    /// The value in header syntax; parameter values are quoted when needed and
    /// non-ASCII values use RFC 2231 (`filename*=utf-8''...`).
    public var description: String {
        var out = value
        for (name, text) in parameters {
            if text.utf8.allSatisfy({ $0 >= 32 && $0 < 127 }) {
                let token = !text.isEmpty && text.utf8.allSatisfy { Self.isTokenByte($0) }
                out += "; \(name)=" + (token ? text : AddressSyntax.quoted(text))
            } else {
                var encoded = ""
                for byte in text.utf8 {
                    if Self.isTokenByte(byte) && byte != UInt8(ascii: "%") && byte != UInt8(ascii: "'")
                        && byte != UInt8(ascii: "*")
                    {
                        encoded.unicodeScalars.append(Unicode.Scalar(byte))
                    } else {
                        encoded += "%" + Hex.upper(byte)
                    }
                }
                out += "; \(name)*=utf-8''\(encoded)"
            }
        }
        return out
    }

    /// RFC 2045 token characters.
    package static func isTokenByte(_ byte: UInt8) -> Bool {
        byte > 32 && byte < 127 && !"()<>@,;:\\\"/[]?=".utf8.contains(byte)
    }

    private static func splitParameters(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if character == "\\" && quoted {
                escaped = true
                current.append(character)
                continue
            }
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        return pieces
    }

    private static func unquote(_ text: String) -> String {
        var out = ""
        var escaped = false
        for character in text {
            if escaped || character != "\\" {
                out.append(character)
                escaped = false
            } else {
                escaped = true
            }
        }
        return out
    }

    private static func percentDecode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "%"), let high = bytes.next(), let low = bytes.next(),
                let value = Hex.value(high, low)
            {
                out.append(value)
            } else {
                out.append(byte)
            }
        }
        return out
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String { String(self).trimmingSpaces }
}
