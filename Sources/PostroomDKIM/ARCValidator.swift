import PostroomCore

/// What validating a message's ARC chain found (RFC 8617 5.2).
public struct ARCValidation: Sendable, Equatable {
    /// The highest instance among the message's ARC fields (0 without any): a sealer adds the next.
    public var instance: Int
    /// The chain's state: none (no ARC fields), pass, or fail.
    public var chain: ARCChainValidation
    /// Why it failed, in a few words; empty otherwise.
    public var reason: String
    /// Whether the failure may pass (a key lookup got no answer): the chain is neither known
    /// good nor known bad, and a sealer should try again later rather than seal `cv=fail`.
    public var temporary: Bool

    /// A validation from parts.
    public init(instance: Int, chain: ARCChainValidation, reason: String = "", temporary: Bool = false) {
        self.instance = instance
        self.chain = chain
        self.reason = reason
        self.temporary = temporary
    }

    /// `arc=pass`, `arc=none`, `arc=fail (reason)`, or `arc=temperror (reason)`.
    public var resinfo: AuthenticationResult {
        AuthenticationResult(method: "arc", result: temporary ? "temperror" : chain.rawValue, comment: reason)
    }
}

/// Validates ARC chains (RFC 8617 5.2): the chain's structure (`ARCChain`), the most recent
/// ARC-Message-Signature, then every ARC-Seal from the newest down, keys from DNS through
/// the same `DKIMVerifier` (and its cache) as the message's DKIM signatures.
public struct ARCValidator {
    /// Fetches keys and checks signatures.
    public let verifier: DKIMVerifier

    /// A validator using `verifier`.
    public init(verifier: DKIMVerifier) {
        self.verifier = verifier
    }

    /// Validates the chain of `message`.
    public func validate(_ message: Message) -> ARCValidation {
        let arcFields = message.fields.filter(ARCSet.isARCField)
        guard !arcFields.isEmpty else { return ARCValidation(instance: 0, chain: .none) }
        let highest = arcFields.compactMap(ARCSet.instance(of:)).max() ?? 0
        func fail(_ reason: String, temporary: Bool = false) -> ARCValidation {
            ARCValidation(instance: highest, chain: .fail, reason: reason, temporary: temporary)
        }
        let chain: ARCChain
        do {
            chain = try ARCChain(fields: message.fields)
        } catch {
            return fail(error.reason)
        }
        guard let latest = chain.sets.last else { return ARCValidation(instance: 0, chain: .none) }
        if latest.chainValidation == .fail {
            return fail("the chain already failed at i=\(latest.instance)")
        }
        let signature = verifier.check(latest.messageSignature, in: message, kind: .arcMessageSignature)
        guard signature.result == .pass else {
            return fail(
                "ARC-Message-Signature i=\(latest.instance): \(signature.result.rawValue), \(signature.reason)",
                temporary: signature.result == .temperror)
        }
        for set in chain.sets.reversed() {
            let seal = checkSeal(set, chain: chain)
            guard seal.result == .pass else {
                return fail(
                    "ARC-Seal i=\(set.instance): \(seal.result.rawValue), \(seal.reason)",
                    temporary: seal.result == .temperror)
            }
        }
        return ARCValidation(instance: latest.instance, chain: .pass)
    }

    /// Checks the seal of `set` over what it signs (RFC 8617 5.1.1).
    func checkSeal(_ set: ARCSet, chain: ARCChain) -> DKIMCheck {
        let tags = set.sealTags
        guard let algorithm = tags["a"].flatMap({ DKIMAlgorithm(rawValue: $0.lowercased()) }) else {
            return DKIMCheck(.neutral, "algorithm \(tags["a"] ?? "") is not supported")
        }
        // A name the DNS cannot hold is not asked for: its lookup finds no key record.
        guard let domain = tags["d"]?.lowercased(), let selector = tags["s"], !domain.isEmpty, !selector.isEmpty
        else { return DKIMCheck(.permerror, "no d= or s=") }
        guard let signature = Base64.decode(Array(DKIMTagList.withoutWhitespace(tags["b"] ?? "").utf8)),
            !signature.isEmpty, let signed = chain.sealSignedData(upTo: set.instance)
        else { return DKIMCheck(.permerror, "b= is not base64", domain: domain, selector: selector) }
        return verifier.checkSignature(
            signature, over: signed, algorithm: algorithm, domain: domain, selector: selector, identity: nil,
            signaturePrefix: String(DKIMTagList.withoutWhitespace(tags["b"] ?? "").prefix(8)))
    }
}
