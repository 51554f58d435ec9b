/// One-click unsubscribe (RFC 8058): List-Unsubscribe with a per-recipient token.
///
/// The token (see `UnsubscribeToken`) carries the address, the list for a list member's copy,
/// and the issue day, signed with the key in `unsubscribe_key_file`; `mark --unsubscribe TOKEN`
/// (or the web application itself) checks it and suppresses the address: everywhere for bulk
/// mail, for that list only for a list copy.
public struct Unsubscribe: Sendable {
    /// The URL template with `{address}`, `{token}` and (for lists) `{list}` placeholders.
    public let urlTemplate: String?
    /// The address for `mailto:` requests.
    public let mailto: String?
    /// The key tokens are signed with.
    public let key: UnsubscribeKey

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
        self.key = UnsubscribeKey(key)
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

    /// The token for `address` (a member of `list`, when given, and then valid for that list
    /// only), issued at `time`.
    public func token(for address: String, list: String? = nil, issued time: Timestamp) -> String {
        UnsubscribeToken(address: address, list: list, issued: time).text(signedWith: key)
    }

    /// The https URL for `address` (a member of `list`, when given), placeholders filled in.
    public func url(for address: String, list: String? = nil, issued time: Timestamp) -> String? {
        urlTemplate.map { fill($0, address: address, list: list, token: token(for: address, list: list, issued: time)) }
    }

    /// The List-Unsubscribe value: `<https://...>, <mailto:...>`.
    ///
    /// For a list member the mailto subject is `unsubscribe ADDRESS LIST TOKEN`; otherwise
    /// `unsubscribe ADDRESS TOKEN`: the token, last, is what counts; the rest is for people.
    public func header(for address: String, list: String? = nil, issued time: Timestamp) -> String {
        let token = token(for: address, list: list, issued: time)
        var links: [String] = []
        if let urlTemplate { links.append("<\(fill(urlTemplate, address: address, list: list, token: token))>") }
        if let mailto {
            let words = [address] + (list.map { [$0] } ?? []) + [token]
            let subject = Self.percentEncoded("unsubscribe " + words.joined(separator: " "))
            links.append("<mailto:\(mailto)?subject=\(subject)>")
        }
        return links.joined(separator: ", ")
    }

    /// Whether the one-click POST header applies (only with an https URL).
    public var supportsOneClick: Bool { urlTemplate?.hasPrefix("https://") == true }

    private func fill(_ template: String, address: String, list: String?, token: String) -> String {
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
                out += token.utf8
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
