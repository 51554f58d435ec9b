/// One mailbox: an optional display name and an address.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    /// The display name, decoded (no quotes, no encoded words), or nil.
    public var displayName: String?
    /// The local part as meant, without the quotes it may need when written.
    public var localPart: String
    /// The domain, or a domain literal in brackets.
    public var domain: String

    /// A mailbox from parts.
    public init(displayName: String? = nil, localPart: String, domain: String) {
        self.displayName = displayName
        self.localPart = localPart
        self.domain = domain
    }

    /// Parses one mailbox (`Name <a@b>` or `a@b`).
    public init(parsing text: String) throws(PostroomError) {
        let list = try AddressParser.parseList(text)
        guard list.count == 1, case .mailbox(let mailbox) = list[0] else {
            throw .malformed(what: "address", location: nil, reason: "expected exactly one address in \"\(text)\"")
        }
        self = mailbox
    }

    /// `local@domain`, the local part quoted when it is not a dot-atom.
    public var address: String {
        (AddressSyntax.isDotAtom(localPart) ? localPart : AddressSyntax.quoted(localPart)) + "@" + domain
    }

    /// The mailbox in header syntax: `"Display Name" <local@domain>`, or the bare address.
    ///
    /// ASCII names are always quoted (with `\` before `"` and `\`); names with other
    /// characters become RFC 2047 encoded words, which may not stand inside quotes.
    public var formatted: String {
        guard let name = displayName?.trimmingSpaces, !name.isEmpty else { return address }
        return "\(AddressSyntax.phrase(name)) <\(address)>"
    }

    /// The address with the domain in lower case, for comparing and suppression lists.
    public var normalizedAddress: String {
        localPart.isEmpty ? "" : "\(address.dropLast(domain.count))\(domain.lowercased())"
    }

    public var description: String { formatted }
}

/// An entry of an address list: a mailbox or a named group of them.
public enum Address: Sendable, Hashable {
    /// A single mailbox.
    case mailbox(Mailbox)
    /// `Name: a@b, c@d;` (possibly empty, as in `undisclosed-recipients:;`).
    case group(name: String, members: [Mailbox])

    /// The mailboxes this entry stands for.
    public var mailboxes: [Mailbox] {
        switch self {
        case .mailbox(let mailbox): [mailbox]
        case .group(_, let members): members
        }
    }

    /// The entry in header syntax.
    public var formatted: String {
        switch self {
        case .mailbox(let mailbox): mailbox.formatted
        case .group(let name, let members):
            "\(AddressSyntax.phrase(name)):" + (members.isEmpty ? "" : " ")
                + members.map(\.formatted).joined(separator: ", ") + ";"
        }
    }

    /// The header fields (lower case) whose value is an address list (RFC 5322 3.6.2, 3.6.3, 3.6.6).
    public static let headerFields: Set<String> = [
        "from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc",
        "resent-bcc", "mail-followup-to", "mail-reply-to", "disposition-notification-to",
    ]

    /// A list in header syntax, comma-separated.
    public static func format(_ list: [Address]) -> String {
        list.map(\.formatted).joined(separator: ", ")
    }
}

/// Lexical rules shared by the address parser and formatter.
package enum AddressSyntax {
    /// RFC 5322 dot-atom: atext runs separated by single dots (UTF-8 allowed, as in RFC 6532).
    static func isDotAtom(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.first != UInt8(ascii: "."), bytes.last != UInt8(ascii: ".") else { return false }
        var previousDot = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                if previousDot { return false }
                previousDot = true
            } else {
                guard isAtext(byte) else { return false }
                previousDot = false
            }
        }
        return true
    }

    /// atext, plus any non-ASCII byte (RFC 6532).
    static func isAtext(_ byte: UInt8) -> Bool { byte >= 128 || MessageName.isAtext(byte) }

    /// `"text"` with `\` before `"` and `\`.
    package static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// A display name as a phrase: quoted if ASCII; otherwise ASCII words stay readable and
    /// only runs of non-ASCII words become encoded words.
    ///
    /// Keeping encoded words apart matters: RFC 2047 readers drop the space between two
    /// adjacent encoded words, but Python's email package keeps it in display names, so
    /// a name split across words would read differently there. Only a run of non-ASCII
    /// words longer than one encoded word (about 45 bytes) still has to be split.
    static func phrase(_ name: String) -> String {
        let flat = HeaderWriter.sanitized(name)
        if flat.utf8.allSatisfy({ $0 < 128 }) { return quoted(flat) }
        var parts: [String] = []
        var run: [Substring] = []
        var runIsASCII = true
        func flush() {
            guard !run.isEmpty else { return }
            let text = run.joined(separator: " ")
            if !runIsASCII {
                parts.append(EncodedWord.encode(text).joined(separator: " "))
            } else if run.allSatisfy({ $0.utf8.allSatisfy(isAtext) }) {
                parts.append(text)
            } else {
                parts.append(quoted(text))
            }
            run.removeAll()
        }
        for word in flat.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            let ascii = word.utf8.allSatisfy { $0 < 128 }
            if ascii != runIsASCII { flush() }
            runIsASCII = ascii
            run.append(word)
        }
        flush()
        return parts.joined(separator: " ")
    }
}

extension String {
    package var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
            let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return String(scalars[start...end])
    }

    /// The text with control characters shown as escapes (`\r`, `\n`, `\x09`: always two hex
    /// digits) and a backslash doubled, so that an error quoting hostile input stays one
    /// readable line that says exactly what was given.
    package var escapingControls: String {
        guard unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 || $0.value == 92 }) else {
            return self
        }
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        var out = ""
        for scalar in unicodeScalars {
            switch scalar.value {
            case 13: out += "\\r"
            case 10: out += "\\n"
            case 92: out += "\\\\"
            case 0..<32, 127:
                out += "\\x"
                out.unicodeScalars.append(hex[Int(scalar.value >> 4)])
                out.unicodeScalars.append(hex[Int(scalar.value & 15)])
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
