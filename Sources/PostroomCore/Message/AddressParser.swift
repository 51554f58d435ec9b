/// Parses RFC 5322 address lists: mailboxes, groups, quoted names, comments,
/// encoded-word display names, obsolete routes, and `<>` where a path allows it.
public enum AddressParser {
    /// Parses an address-list field value (To, Cc, From, Reply-To).
    public static func parseList(_ text: String) throws(PostroomError) -> [Address] {
        var parser = try Parser(text)
        return try parser.list()
    }

    /// Parses an envelope path: `<a@b>`, `a@b`, or `<>` / empty (the null sender, returned as nil).
    public static func parsePath(_ text: String) throws(PostroomError) -> Mailbox? {
        let trimmed = text.trimmingSpaces
        if trimmed.isEmpty || trimmed == "<>" { return nil }
        var mailbox = try Mailbox(parsing: trimmed)
        mailbox.displayName = nil
        return mailbox
    }

    /// Whether `text` is one plain address (`local@domain`) fit to send to: a dot-atom or
    /// quoted local part of at most 64 octets, and a host name or address literal.
    public static func isValidAddress(_ text: String) -> Bool {
        if isPlainAddress(text) { return true }
        guard let mailbox = try? Mailbox(parsing: text), mailbox.displayName == nil,
            text.trimmingSpaces == mailbox.address || text.trimmingSpaces == "<\(mailbox.address)>"
        else { return false }
        return mailbox.localPart.utf8.count <= 64 && !mailbox.localPart.isEmpty && isValidDomain(mailbox.domain)
    }

    /// `local@domain` with a dot-atom local part and a host name: what nearly every address is,
    /// recognised without tokenizing (route checks several on every start). Anything else, valid
    /// or not, is left to the parser.
    private static func isPlainAddress(_ text: String) -> Bool {
        var local = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for byte in text.utf8 {
            if byte == UInt8(ascii: "@") { break }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            case UInt8(ascii: "."):
                guard previous != UInt8(ascii: ".") else { return false }
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
                UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"),
                UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
                UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
                break
            default:
                return false
            }
            previous = byte
            local += 1
        }
        guard local > 0, local <= 64, previous != UInt8(ascii: "."), local < text.utf8.count else { return false }
        let domain = text.utf8.dropFirst(local + 1)
        guard domain.allSatisfy({ $0 < 128 && $0 != UInt8(ascii: "[") }) else { return false }
        return isValidDomain(String(decoding: domain, as: UTF8.self))
    }

    /// Host-name syntax (letters, digits, hyphens; UTF-8 labels allowed) or a bracketed literal.
    public static func isValidDomain(_ domain: String) -> Bool {
        if domain.hasPrefix("[") { return domain.hasSuffix("]") && domain.count > 2 }
        guard domain.utf8.count <= 253, !domain.isEmpty else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count <= 63, bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
            else { return false }
            return bytes.allSatisfy {
                $0 >= 128 || $0 == UInt8(ascii: "-") || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || ($0 >= 48 && $0 <= 57)
            }
        }
    }

    private enum Token: Equatable {
        case atom(String)
        case quoted(String)
        case literal(String)
        case special(UInt8)
    }

    private struct Parser {
        let text: String
        var tokens: [(token: Token, spaced: Bool)] = []
        var comments: [Int: String] = [:]
        var index = 0

        init(_ text: String) throws(PostroomError) {
            self.text = text
            try tokenize(Array(text.utf8))
        }

        func fail(_ reason: String) -> PostroomError {
            .malformed(what: "address", location: nil, reason: "\(reason) in \"\(text.escapingControls)\"")
        }

        mutating func tokenize(_ bytes: [UInt8]) throws(PostroomError) {
            var i = 0
            var spaced = false
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 32, 9, 13, 10:
                    spaced = true
                    i += 1
                case UInt8(ascii: "("):
                    var depth = 0
                    var comment: [UInt8] = []
                    repeat {
                        guard i < bytes.count else { throw fail("a comment is not closed") }
                        let c = bytes[i]
                        if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                            try refuseEscapedControl(bytes[i + 1])
                            comment.append(bytes[i + 1])
                            i += 2
                            continue
                        }
                        if c == UInt8(ascii: "(") {
                            depth += 1
                            if depth > 1 { comment.append(c) }
                        } else if c == UInt8(ascii: ")") {
                            depth -= 1
                            if depth > 0 { comment.append(c) }
                        } else {
                            comment.append(c)
                        }
                        i += 1
                    } while depth > 0
                    comments[tokens.count] = String(decoding: comment, as: UTF8.self)
                    spaced = true
                case UInt8(ascii: "\""):
                    var content: [UInt8] = []
                    i += 1
                    while true {
                        guard i < bytes.count else { throw fail("a quoted string is not closed") }
                        let c = bytes[i]
                        if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                            try refuseEscapedControl(bytes[i + 1])
                            content.append(bytes[i + 1])
                            i += 2
                            continue
                        }
                        i += 1
                        if c == UInt8(ascii: "\"") { break }
                        if c == 0 { throw fail("a quoted string contains NUL") }
                        if c != 13 && c != 10 { content.append(c) }
                    }
                    tokens.append((.quoted(String(decoding: content, as: UTF8.self)), spaced))
                    spaced = false
                case UInt8(ascii: "["):
                    guard let close = bytes[i...].firstIndex(of: UInt8(ascii: "]")) else {
                        throw fail("a domain literal is not closed")
                    }
                    tokens.append((.literal(String(decoding: bytes[i...close], as: UTF8.self)), spaced))
                    spaced = false
                    i = close + 1
                case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ":"), UInt8(ascii: ";"),
                    UInt8(ascii: "@"), UInt8(ascii: ","), UInt8(ascii: "."):
                    tokens.append((.special(byte), spaced))
                    spaced = false
                    i += 1
                default:
                    guard AddressSyntax.isAtext(byte) else {
                        throw fail("the character '\(Character(Unicode.Scalar(byte)))' is not allowed here")
                    }
                    var end = i
                    while end < bytes.count, AddressSyntax.isAtext(bytes[end]) { end += 1 }
                    tokens.append((.atom(String(decoding: bytes[i..<end], as: UTF8.self)), spaced))
                    spaced = false
                    i = end
                }
            }
        }

        /// A quoted-pair may not stand for CR, LF or NUL: in an address they could end an SMTP
        /// command line, and RFC 5322 keeps them only as obsolete syntax.
        func refuseEscapedControl(_ byte: UInt8) throws(PostroomError) {
            guard byte == 13 || byte == 10 || byte == 0 else { return }
            throw fail("a backslash escapes \(byte == 0 ? "NUL" : byte == 13 ? "CR" : "LF")")
        }

        var current: Token? { index < tokens.count ? tokens[index].token : nil }

        mutating func take(_ special: Character) -> Bool {
            guard let ascii = special.asciiValue, current == .special(ascii) else { return false }
            index += 1
            return true
        }

        mutating func list() throws(PostroomError) -> [Address] {
            var result: [Address] = []
            while current != nil {
                if take(",") { continue }
                result.append(try address())
                guard current == nil || take(",") else { throw fail("expected ',' between addresses") }
            }
            return result
        }

        mutating func address() throws(PostroomError) -> Address {
            let start = index
            let words = phraseWords()
            if take(":") {
                var members: [Mailbox] = []
                while !take(";") {
                    guard current != nil else {
                        throw fail("the group \"\(decodePhrase(words))\" is not closed with ';'")
                    }
                    if take(",") { continue }
                    members.append(try mailbox())
                }
                return .group(name: decodePhrase(words), members: members)
            }
            index = start
            return .mailbox(try mailbox())
        }

        mutating func mailbox() throws(PostroomError) -> Mailbox {
            let start = index
            let words = phraseWords()
            if take("<") {
                var box = try angleAddress()
                box.displayName = words.isEmpty ? nil : decodePhrase(words)
                return box
            }
            index = start
            let commentIndex = index
            var box = try addressSpec()
            // "a@b (Name)": an old convention that puts the name in a comment.
            if let comment = comments[index] ?? comments[commentIndex] { box.displayName = comment.trimmingSpaces }
            return box
        }

        mutating func angleAddress() throws(PostroomError) -> Mailbox {
            if take(">") { throw fail("<> is not an address here") }
            // Obsolete source route: <@relay1,@relay2:user@host>; the route is dropped.
            if current == .special(UInt8(ascii: "@")) {
                while take("@") || take(",") { _ = try domain() }
                guard take(":") else { throw fail("a source route must end with ':'") }
            }
            let box = try addressSpec()
            guard take(">") else { throw fail("expected '>' after the address") }
            return box
        }

        mutating func addressSpec() throws(PostroomError) -> Mailbox {
            var local = ""
            var expectWord = true
            while let token = current {
                if case .special(let s) = token, s == UInt8(ascii: ".") {
                    local += "."
                    expectWord = true
                    index += 1
                    continue
                }
                guard expectWord else { break }
                switch token {
                case .atom(let text), .quoted(let text):
                    local += text
                    index += 1
                    expectWord = false
                default:
                    break
                }
                if expectWord { break }
            }
            guard !local.isEmpty else { throw fail("an address is missing") }
            guard take("@") else { throw fail("\"\(local)\" has no @domain") }
            return Mailbox(localPart: local, domain: try domain())
        }

        mutating func domain() throws(PostroomError) -> String {
            if case .literal(let literal) = current {
                index += 1
                return literal
            }
            var parts: [String] = []
            while case .atom(let label) = current {
                parts.append(label)
                index += 1
                guard take(".") else { break }
            }
            guard !parts.isEmpty else { throw fail("the domain is missing after '@'") }
            return parts.joined(separator: ".")
        }

        /// Words and dots of a display name until a special, with their spacing.
        mutating func phraseWords() -> [(text: String, quoted: Bool, spaced: Bool)] {
            var pieces: [(text: String, quoted: Bool, spaced: Bool)] = []
            while index < tokens.count {
                let (token, spaced) = tokens[index]
                switch token {
                case .atom(let text): pieces.append((text, false, spaced))
                case .quoted(let text): pieces.append((text, true, spaced))
                case .special(let s) where s == UInt8(ascii: "."): pieces.append((".", false, spaced))
                default: return pieces
                }
                index += 1
            }
            return pieces
        }

        /// The display name: encoded words decoded outside quotes only, as RFC 2047 says.
        func decodePhrase(_ pieces: [(text: String, quoted: Bool, spaced: Bool)]) -> String {
            var result = ""
            var plain = ""
            for (position, piece) in pieces.enumerated() {
                let gap = position > 0 && piece.spaced ? " " : ""
                if piece.quoted {
                    result += EncodedWord.decode(plain) + gap + piece.text
                    plain = ""
                } else {
                    plain += gap + piece.text
                }
            }
            return result + EncodedWord.decode(plain)
        }
    }
}
