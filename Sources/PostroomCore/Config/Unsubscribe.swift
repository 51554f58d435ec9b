/// One-click unsubscribe (RFC 8058): List-Unsubscribe with a per-recipient token.
///
/// The token is `base64url(HMAC-SHA256(key, lowercased address))` without padding, so the
/// web application that receives the click can check it with the same key:
/// `urlsafe_b64encode(hmac.new(key, address.lower().encode(), sha256).digest()).rstrip(b"=")`.
///
/// A list member's token is scoped to the list: `base64url(HMAC-SHA256(key, lowercased
/// "LIST\nADDRESS"))` without padding, LIST being the list's address, so a link from one list
/// unsubscribes from that list only:
/// `urlsafe_b64encode(hmac.new(key, f"{list}\n{address}".lower().encode(), sha256).digest()).rstrip(b"=")`.
public struct Unsubscribe: Sendable {
    /// The URL template with `{address}`, `{token}` and (for lists) `{list}` placeholders.
    public let urlTemplate: String?
    /// The address for `mailto:` requests.
    public let mailto: String?
    /// The key XOR the HMAC pads (RFC 2104), prepared once: a list post makes a token per member.
    private let innerPad: [UInt8]
    private let outerPad: [UInt8]

    /// Settings from parts; at least one of `urlTemplate` and `mailto` is required.
    public init(urlTemplate: String?, mailto: String?, key: [UInt8]) throws(PostroomError) {
        if let urlTemplate {
            // RFC 8058: one-click unsubscribe needs https; a plain http link would also leak the token.
            guard urlTemplate.hasPrefix("https://") else {
                throw .configuration(
                    location: nil,
                    reason: "unsubscribe_url must be an https:// URL (RFC 8058 one-click unsubscribe), "
                        + "got \"\(urlTemplate)\"; serve the unsubscribe page over https")
            }
            guard urlTemplate.contains("{token}") else {
                throw .configuration(
                    location: nil, reason: "unsubscribe_url must contain {token} so the click can be verified")
            }
        }
        if let mailto, !AddressParser.isValidAddress(mailto) {
            throw .configuration(location: nil, reason: "unsubscribe_mailto \"\(mailto)\" is not an address")
        }
        self.urlTemplate = urlTemplate
        self.mailto = mailto
        // RFC 2104: a key longer than the hash's block is hashed first, then padded to the block.
        var block = key.count > 64 ? Digest.hash(.sha256, key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        innerPad = block.map { $0 ^ 0x36 }
        outerPad = block.map { $0 ^ 0x5c }
    }

    /// Settings from the configuration, or nil when unsubscribe links are not configured.
    public static func configured(_ configuration: Configuration) throws(PostroomError) -> Unsubscribe? {
        let url = configuration.value(Configuration.unsubscribeURL)
        let mailto = configuration.value(Configuration.unsubscribeMailto)
        guard url != nil || mailto != nil else { return nil }
        guard let keyFile = configuration.value(Configuration.unsubscribeKeyFile) else {
            throw .configuration(
                location: configuration.path, reason: "unsubscribe_url or unsubscribe_mailto needs unsubscribe_key_file"
            )
        }
        return try Unsubscribe(
            urlTemplate: url, mailto: mailto, key: SecretFile.read(keyFile, purpose: "unsubscribe key"))
    }

    /// The token for `address`.
    public func token(for address: String) -> String {
        Self.base64url(mac(address.lowercased().utf8))
    }

    /// The token for `address` as a member of `list` (the list's address): valid for that list only.
    public func token(for address: String, list: String) -> String {
        Self.base64url(mac("\(list)\n\(address)".lowercased().utf8))
    }

    /// The https URL for `address` (a member of `list`, when given), placeholders filled in.
    public func url(for address: String, list: String? = nil) -> String? {
        urlTemplate.map { fill($0, address: address, list: list) }
    }

    /// The List-Unsubscribe value: `<https://...>, <mailto:...>`.
    ///
    /// For a list member the mailto subject is `unsubscribe ADDRESS LIST TOKEN`; otherwise
    /// `unsubscribe ADDRESS TOKEN`.
    public func header(for address: String, list: String? = nil) -> String {
        var links: [String] = []
        if let url = url(for: address, list: list) { links.append("<\(url)>") }
        if let mailto {
            let words =
                list.map { "\(address) \($0) \(token(for: address, list: $0))" } ?? "\(address) \(token(for: address))"
            links.append("<mailto:\(mailto)?subject=\(Self.percentEncoded("unsubscribe \(words)"))>")
        }
        return links.joined(separator: ", ")
    }

    /// HMAC-SHA256 under the key (equal to `Digest.hmac`, without setting the key up each time).
    private func mac(_ message: String.UTF8View) -> [UInt8] {
        var inner = Digest.Hasher(.sha256)
        inner.update(innerPad)
        inner.update(message)
        var outer = Digest.Hasher(.sha256)
        outer.update(outerPad)
        outer.update(inner.finish())
        return outer.finish()
    }

    private static func base64url(_ digest: [UInt8]) -> String {
        var text = Base64.encode(digest)
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// Whether the one-click POST header applies (only with an https URL).
    public var supportsOneClick: Bool { urlTemplate?.hasPrefix("https://") == true }

    private func fill(_ template: String, address: String, list: String?) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(template.utf8.count + 96)
        var rest = template.utf8[...]
        while let open = rest.firstIndex(of: UInt8(ascii: "{")),
            let close = rest[open...].firstIndex(of: UInt8(ascii: "}"))
        {
            out += rest[..<open]
            let name = rest[rest.index(after: open)..<close]
            if name.elementsEqual("address".utf8) {
                Self.appendPercentEncoded(address, to: &out)
            } else if name.elementsEqual("token".utf8) {
                out += (list.map { token(for: address, list: $0) } ?? token(for: address)).utf8
            } else if name.elementsEqual("list".utf8) {
                if let list { Self.appendPercentEncoded(list, to: &out) }
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 unreserved characters kept, everything else percent-encoded.
    package static func percentEncoded(_ text: String) -> String {
        var out: [UInt8] = []
        appendPercentEncoded(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendPercentEncoded(_ text: String, to out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                Hex.append(byte, to: &out)
            }
        }
    }
}

/// The domains From may use, from `sending_domains`.
public struct SendingDomains: Sendable {
    /// The patterns as configured: `example.org`, `*.example.org`.
    public let patterns: [String]

    /// Parses a comma- or space-separated list.
    public init(_ text: String) {
        patterns = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map { $0.lowercased() }
    }

    /// Whether `domain` matches a pattern: exactly, or as a subdomain of a `*.` pattern.
    public func allows(_ domain: String) -> Bool {
        let domain = domain.lowercased()
        return patterns.contains { pattern in
            if pattern.hasPrefix("*.") {
                let parent = pattern.dropFirst(2)
                return domain == parent || domain.hasSuffix("." + parent)
            }
            return domain == pattern
        }
    }

    /// Checks a From address, with the reason receivers would reject it otherwise.
    public func check(from address: String) throws(PostroomError) {
        let domain = address.split(separator: "@").last.map(String.init) ?? ""
        guard allows(domain) else {
            throw .malformed(
                what: "From address", location: nil,
                reason:
                    "\(address) is not in a sending domain (\(patterns.joined(separator: ", "))): receivers checking DMARC will reject it"
            )
        }
    }
}
