/// DMARC policies from DNS (RFC 7489 section 6.6.3): the TXT record at `_dmarc.DOMAIN`, else the
/// one at `_dmarc.` the organisational domain (from the public suffix list), whose `sp` then
/// applies to its subdomains.
public struct DNSDMARCPolicySource: DMARCPolicySource {
    /// Where the TXT records come from.
    public let resolver: DNSResolver
    /// The public suffix list, read only when a domain has no record of its own.
    public let publicSuffixList: PublicSuffixList

    /// A source from parts.
    public init(resolver: DNSResolver, publicSuffixList: PublicSuffixList) {
        self.resolver = resolver
        self.publicSuffixList = publicSuffixList
    }

    /// The source the `dns_server`, `dns_timeout` and `public_suffix_list` keys describe. The
    /// list must exist (it is read later, when a lookup needs it).
    public static func configured(_ configuration: Configuration) throws(PostroomError) -> DNSDMARCPolicySource {
        let resolver = try DNSResolver.configured(configuration)
        return DNSDMARCPolicySource(
            resolver: resolver, publicSuffixList: try PublicSuffixList.configured(configuration))
    }

    /// The policy for mail whose From is in `domain`. No record, several records, or a record
    /// without a valid policy all mean `.none`, as RFC 7489 says; no answer means `.unavailable`.
    public func policy(for domain: String) -> DMARCLookup {
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        // A name that cannot exist in the DNS cannot publish a policy.
        guard DNSResolver.isQueryable("_dmarc.\(name)") else { return .none }
        switch record(at: name) {
        case .found(let record): return record.disposition(subdomain: false)
        case .unavailable(let reason): return .unavailable(reason)
        case .ignored: return .none
        case .absent: break
        }
        let organizational: String?
        do {
            organizational = try publicSuffixList.organizationalDomain(of: name)
        } catch {
            return .unavailable("DMARC policy for \(name): \(error.description)")
        }
        guard let organizational, organizational != name else { return .none }
        switch record(at: organizational) {
        case .found(let record): return record.disposition(subdomain: true)
        case .unavailable(let reason): return .unavailable(reason)
        case .ignored, .absent: return .none
        }
    }

    private enum Found {
        case found(DMARCRecord)
        /// More than one DMARC record: none applies.
        case ignored
        case absent
        case unavailable(String)
    }

    private func record(at domain: String) -> Found {
        switch resolver.txt("_dmarc.\(domain)") {
        case .unavailable(let reason): return .unavailable("DMARC policy for \(domain): \(reason)")
        case .noRecord: return .absent
        case .found(let texts):
            let records = texts.compactMap(DMARCRecord.init(parsing:))
            switch records.count {
            case 0: return .absent
            case 1: return .found(records[0])
            default: return .ignored
            }
        }
    }
}

/// One DMARC record's policy tags (RFC 7489 section 6.3).
public struct DMARCRecord: Sendable, Equatable {
    /// A requested handling of failing mail.
    public enum Disposition: String, Sendable {
        case none, quarantine, reject
    }

    /// `p`, or nil when it is missing or not one of the three values.
    public var policy: Disposition?
    /// `sp`, or nil when absent.
    public var subdomainPolicy: Disposition?
    /// Whether `sp` is present with a value that is not one of the three.
    public var subdomainPolicyInvalid: Bool

    /// Parses a TXT record; nil when it is not a DMARC record (its first tag is not `v=DMARC1`).
    /// Tags are `name=value` separated by `;`, with optional spaces; unknown tags are ignored.
    public init?(parsing text: String) {
        let tags = text.split(separator: ";", omittingEmptySubsequences: false).map { tag in
            let parts = tag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (
                name: Self.trimmed(parts[0]).lowercased(),
                value: parts.count > 1 ? Self.trimmed(parts[1]) : Optional<Substring>.none
            )
        }
        // The version is case-sensitive and must come first.
        guard let first = tags.first, first.name == "v", first.value == "DMARC1" else { return nil }
        policy = nil
        subdomainPolicy = nil
        subdomainPolicyInvalid = false
        for tag in tags.dropFirst() {
            guard let value = tag.value else { continue }
            switch tag.name {
            case "p" where policy == nil:
                policy = Disposition(rawValue: value.lowercased())
            case "sp" where subdomainPolicy == nil && !subdomainPolicyInvalid:
                subdomainPolicy = Disposition(rawValue: value.lowercased())
                subdomainPolicyInvalid = subdomainPolicy == nil
            default: continue
            }
        }
    }

    /// What the record asks of mail from its own domain, or (`subdomain`) from a subdomain
    /// that has no record: `sp` when given, else `p`. A record without a valid `p` or with
    /// an invalid `sp` applies no policy (RFC 7489 section 6.6.3).
    public func disposition(subdomain: Bool) -> DMARCLookup {
        guard let policy, !subdomainPolicyInvalid else { return .none }
        switch subdomain ? (subdomainPolicy ?? policy) : policy {
        case .none: return .none
        case .quarantine: return .quarantine
        case .reject: return .reject
        }
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" || last == "\n" { text.removeLast() }
        return text
    }
}
