/// From and DKIM: one From mailbox, whose domain a DKIM signature aligns with (same
/// organisational domain, DMARC's relaxed alignment), and which covers the one-click
/// unsubscribe fields so nobody can add or change them on the way.
struct SenderAlignmentCheck {
    let lint: MessageLint

    /// The fields Gmail wants signed beside From.
    static let unsubscribeFields = ["list-unsubscribe", "list-unsubscribe-post"]

    func check(_ message: Message) -> [LintFinding] {
        let froms = message.values(of: "From")
        guard froms.count == 1 else {
            let what = froms.isEmpty ? "no From field" : "\(froms.count) From fields"
            return [LintFinding(.error, "from", what, "RFC 5322 requires exactly one; DMARC aligns on it")]
        }
        let mailboxes = (try? AddressParser.parseList(froms[0]))?.flatMap(\.mailboxes) ?? []
        guard mailboxes.count == 1, let mailbox = mailboxes.first else {
            return [
                LintFinding(
                    .error, "from", "From \"\(froms[0].escapingControls)\" is not one address",
                    "receivers align DKIM and SPF with the one From domain; write From: Name <user@domain>")
            ]
        }
        let domain = mailbox.domain.lowercased()
        let signatures = message.values(of: "DKIM-Signature").map(Self.tags)
        guard !signatures.isEmpty else { return checkConfiguredKeys(for: domain) }
        return checkSignatures(signatures, domain: domain, message: message)
    }

    /// An unsigned message: `deliver` signs it when a key for the From domain (or a parent) is
    /// configured, with both unsubscribe fields in h=.
    private func checkConfiguredKeys(for domain: String) -> [LintFinding] {
        guard !lint.dkimDomains.isEmpty else {
            return [
                LintFinding(
                    .warning, "dkim", "no DKIM key is configured, so deliver sends this unsigned",
                    "Gmail and Yahoo require bulk mail signed by the From domain: create a key with "
                        + "'postroom dkim-keygen --domain \(domain) --selector NAME --key-file FILE', "
                        + "publish its record and set dkim; "
                        + "deliver then signs From and the unsubscribe fields")
            ]
        }
        let signing = lint.dkimDomains.filter { domain == $0 || domain.hasSuffix("." + $0) }
        if signing.contains(where: { isAligned($0, domain) }) { return [] }
        return [
            LintFinding(
                .error, "dkim",
                "From domain \(domain) has no DKIM key (keys for \(lint.dkimDomains.joined(separator: ", ")))",
                "deliver signs with the key of the From domain or a parent, so this goes out unsigned: "
                    + "add a key for \(domain) with 'postroom dkim-keygen', or send from a signed domain")
        ]
    }

    /// A message that carries signatures already: one must align, and cover the unsubscribe fields.
    private func checkSignatures(
        _ signatures: [[String: String]], domain: String, message: Message
    )
        -> [LintFinding]
    {
        let aligned = signatures.filter { isAligned($0["d"]?.lowercased() ?? "", domain) }
        guard !aligned.isEmpty else {
            var signers: [String] = []
            for signer in signatures.compactMap({ $0["d"]?.lowercased() }) where !signers.contains(signer) {
                signers.append(signer)
            }
            return [
                LintFinding(
                    .error, "dkim",
                    "no DKIM signature aligns with From domain \(domain) (signed by \(signers.joined(separator: ", ")))",
                    "DMARC needs d= in the same organisational domain as From: sign with a key for \(domain)")
            ]
        }
        let present = Self.unsubscribeFields.filter { message.contains($0) }
        let covering = aligned.contains { signature in
            let signed = Set((signature["h"] ?? "").split(separator: ":").map { $0.lowercased() })
            return present.allSatisfy { signed.contains($0) }
        }
        guard covering else {
            return [
                LintFinding(
                    .error, "dkim", "the aligned DKIM signature does not cover \(present.joined(separator: " and "))",
                    "Gmail ignores one-click unsubscribe fields outside the signature: list them in h=")
            ]
        }
        guard aligned.contains(where: { $0["a"]?.lowercased() == "rsa-sha256" }) else {
            return [
                LintFinding(
                    .warning, "dkim", "the aligned DKIM signatures are all \(aligned[0]["a"] ?? "without a=")",
                    "not every large receiver checks ed25519-sha256 (RFC 8463) yet, and to those the message "
                        + "is unsigned: add an RSA key for \(domain) with 'postroom dkim-keygen'; deliver signs with both"
                )
            ]
        }
        return []
    }

    /// Whether `signer` and `from` share an organisational domain (DMARC's relaxed alignment).
    /// Without a readable public suffix list only a domain and its subdomains align.
    private func isAligned(_ signer: String, _ from: String) -> Bool {
        guard !signer.isEmpty else { return false }
        if let aligned = try? lint.publicSuffixList.relaxedlyAligned(signer, from) { return aligned }
        return signer == from || from.hasSuffix("." + signer) || signer.hasSuffix("." + from)
    }

    /// A DKIM-Signature's tags (RFC 6376 section 3.2), whitespace removed from the values.
    static func tags(_ value: String) -> [String: String] {
        var tags: [String: String] = [:]
        for item in value.split(separator: ";") {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let name = String(item[..<equals]).filter { !$0.isWhitespace }
            tags[name] = String(item[item.index(after: equals)...]).filter { !$0.isWhitespace }
        }
        return tags
    }
}
