/// RFC 5321 4.1.2 syntax of the addresses written into `MAIL FROM` and `RCPT TO`, with the
/// UTF-8 that RFC 6531 (SMTPUTF8) allows. An envelope address goes into a command line, so
/// a CR, LF or `>` in one would end the command and start another: nothing else may pass.
enum SMTPMailbox {
    /// Why `address` is not an RFC 5321 Mailbox (`local@domain`), or nil when it is one.
    static func problem(in address: String) -> String? {
        let bytes = Array(address.utf8)
        guard !bytes.isEmpty else { return "it is empty" }
        var index = 0
        if bytes[0] == UInt8(ascii: "\"") {
            if let problem = quotedString(bytes, &index) { return problem }
        } else {
            while index < bytes.count, bytes[index] != UInt8(ascii: "@") { index += 1 }
            guard AddressSyntax.isDotAtom(String(decoding: bytes[..<index], as: UTF8.self)) else {
                return "the local part is neither a dot-string nor a quoted string"
            }
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "@") else { return "it has no @domain" }
        let domain = bytes[(index + 1)...]
        if domain.first == UInt8(ascii: "[") {
            return isAddressLiteral(domain) ? nil : "the address literal is not an IP address or tagged literal"
        }
        return AddressParser.isValidDomain(String(decoding: domain, as: UTF8.self))
            ? nil : "the domain is not a host name"
    }

    /// Walks a Quoted-string starting at `index` to just past its closing quote.
    private static func quotedString(_ bytes: [UInt8], _ index: inout Int) -> String? {
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return nil
            case UInt8(ascii: "\\"):
                // quoted-pairSMTP: a backslash and one printable ASCII character.
                guard index < bytes.count, (32...126).contains(bytes[index]) else {
                    return "the quoted local part escapes a control character"
                }
                index += 1
            case 32...126, 128...255:
                continue
            default:
                return "the quoted local part contains a control character"
            }
        }
        return "the quoted local part is not closed"
    }

    /// `[192.0.2.1]` or `[tag:content]` (such as `[IPv6:2001:db8::1]`), RFC 5321 4.1.3.
    private static func isAddressLiteral(_ literal: ArraySlice<UInt8>) -> Bool {
        guard literal.count > 2, literal.last == UInt8(ascii: "]") else { return false }
        let content = literal.dropFirst().dropLast()
        let numbers = content.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if numbers.count == 4,
            numbers.allSatisfy({
                (1...3).contains($0.count) && $0.allSatisfy { (48...57).contains($0) }
                    && (Int(String(decoding: $0, as: UTF8.self)) ?? 256) <= 255
            })
        {
            return true
        }
        guard let colon = content.firstIndex(of: UInt8(ascii: ":")) else { return false }
        let tag = content[..<colon]
        let value = content[(colon + 1)...]
        let letterOrDigit = { (byte: UInt8) in (byte | 0x20 >= 97 && byte | 0x20 <= 122) || (48...57).contains(byte) }
        return tag.first.map(letterOrDigit) == true && tag.last.map(letterOrDigit) == true
            && tag.allSatisfy { letterOrDigit($0) || $0 == UInt8(ascii: "-") } && !value.isEmpty
            && value.allSatisfy { (33...90).contains($0) || (94...126).contains($0) }
    }
}
