/// A signature found on a received message, its tags checked (RFC 6376 6.1.1): the crypto-free
/// half of verification. A DKIM-Signature, or an ARC-Message-Signature (RFC 8617 4.1.2: the
/// same tags, with `i=` the ARC instance and no `v=`).
public struct DKIMReceivedSignature: Sendable {
    /// Which kind of field it is.
    public enum Kind: Sendable {
        /// `DKIM-Signature`.
        case dkim
        /// `ARC-Message-Signature`.
        case arcMessageSignature
    }

    /// What the signature says it covers, and its tags.
    public let signedData: DKIMSignedData
    /// `a=`.
    public let algorithm: DKIMAlgorithm
    /// `d=`, lower case.
    public let domain: String
    /// `s=`.
    public let selector: String
    /// `bh=`, decoded.
    public let bodyHash: [UInt8]
    /// `b=`, decoded.
    public let signature: [UInt8]
    /// `l=`: how many bytes of the canonical body are signed (nil: all of it).
    public let bodyLength: Int?
    /// `x=`: when the signature expires, seconds since 1970.
    public let expiration: Int?
    /// `i=` of a DKIM-Signature: the agent or user identifier (`@example.org` when absent).
    public let identity: String?
    /// `b=` as written, folding whitespace removed.
    public let signatureText: String

    /// The first 8 characters of `b=` (RFC 6008 `header.b`).
    public var signaturePrefix: String { String(signatureText.prefix(8)) }

    /// An unchecked result naming this signature.
    public func check(_ result: DKIMResult, _ reason: String = "") -> DKIMCheck {
        DKIMCheck(result, reason, domain: domain, selector: selector, signaturePrefix: signaturePrefix)
    }

    /// Reads and checks `field` at time `now` (seconds since 1970); throws the `permerror` (or
    /// `neutral`, for an algorithm postroom does not know) to report, naming what is wrong.
    public init(_ field: HeaderField, kind: Kind = .dkim, now: Int) throws(DKIMCheckFailure) {
        guard let tags = DKIMTagList(parsing: field.value) else {
            throw DKIMCheckFailure(DKIMCheck(.permerror, "not a tag list"))
        }
        func fail(_ reason: String, _ result: DKIMResult = .permerror) -> DKIMCheckFailure {
            DKIMCheckFailure(
                DKIMCheck(
                    result, reason, domain: tags["d"]?.lowercased(), selector: tags["s"],
                    signaturePrefix: tags["b"].map { String(DKIMTagList.withoutWhitespace($0).prefix(8)) }))
        }
        if kind == .dkim {
            guard tags["v"] == "1" else { throw fail("v= is not 1") }
        }
        for name in ["a", "b", "bh", "d", "h", "s"] where tags[name] == nil {
            throw fail("no \(name)= tag")
        }
        guard let signed = DKIMSignedData(field) else { throw fail("unknown canonicalization in c=") }
        guard let algorithmText = tags["a"], let algorithm = DKIMAlgorithm(rawValue: algorithmText.lowercased()) else {
            throw fail("algorithm \(tags["a"] ?? "") is not supported", .neutral)
        }
        guard let domainText = tags["d"], let selector = tags["s"], !domainText.isEmpty, !selector.isEmpty,
            DNSResolver.isQueryable("\(selector)._domainkey.\(domainText)")
        else { throw fail("d= or s= is not a DNS name") }
        let domain = domainText.lowercased()
        guard signed.signedNames.contains(where: { $0.lowercased() == "from" }) else {
            throw fail("h= does not sign From")
        }
        let signatureText = DKIMTagList.withoutWhitespace(tags["b"] ?? "")
        guard let bodyHash = Base64.decode(Array(DKIMTagList.withoutWhitespace(tags["bh"] ?? "").utf8)),
            let signature = Base64.decode(Array(signatureText.utf8)), !signature.isEmpty
        else { throw fail("b= or bh= is not base64") }
        var identity: String?
        if kind == .dkim {
            if let query = tags["q"], !query.split(separator: ":").contains(where: { $0.lowercased() == "dns/txt" }) {
                throw fail("q= offers no dns/txt key query")
            }
            if let given = tags["i"] {
                let identityDomain = IncomingMessage.split(given).domain.lowercased()
                guard given.contains("@"), identityDomain == domain || identityDomain.hasSuffix("." + domain) else {
                    throw fail("i= is not in the domain d= names")
                }
                identity = given
            }
        }
        var bodyLength: Int?
        if let text = tags["l"] {
            guard let length = Self.number(text) else { throw fail("l= is not a number") }
            bodyLength = length
        }
        var expiration: Int?
        if let text = tags["x"] {
            guard let value = Self.number(text) else { throw fail("x= is not a number") }
            if let timestamp = tags["t"].flatMap(Self.number), value < timestamp {
                throw fail("x= is before t=")
            }
            guard value >= now else { throw fail("the signature expired (x=\(value))") }
            expiration = value
        }
        self.signedData = signed
        self.algorithm = algorithm
        self.domain = domain
        self.selector = selector
        self.bodyHash = bodyHash
        self.signature = signature
        self.bodyLength = bodyLength
        self.expiration = expiration
        self.identity = identity
        self.signatureText = signatureText
    }

    /// The canonical body to hash for `body`, cut to `l=`, and how many canonical bytes `l=` left
    /// unsigned; nil when `l=` is longer than the canonical body (the body was cut: a permerror).
    public func canonicalBody(_ body: some Collection<UInt8>) -> (bytes: [UInt8], unsigned: Int)? {
        var canonicalizer = DKIMBodyCanonicalizer(signedData.canonicalization.body)
        var bytes = canonicalizer.update(body)
        bytes += canonicalizer.finish()
        guard let bodyLength else { return (bytes, 0) }
        guard bodyLength <= bytes.count else { return nil }
        return (Array(bytes.prefix(bodyLength)), bytes.count - bodyLength)
    }

    /// A decimal tag value (1 to 76 digits per RFC 6376; more than fit in an Int is refused).
    static func number(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(text)
    }
}

/// A signature that cannot be verified, and the result to report for it.
public struct DKIMCheckFailure: Error, Sendable {
    /// The result to report.
    public let check: DKIMCheck

    /// A failure reporting `check`.
    public init(_ check: DKIMCheck) {
        self.check = check
    }
}
