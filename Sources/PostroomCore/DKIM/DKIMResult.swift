/// The result of checking one signature, in Authentication-Results' words (RFC 8601 2.7.1).
public enum DKIMResult: String, Sendable, CaseIterable {
    /// The signature verified.
    case pass
    /// The signature or body hash did not verify.
    case fail
    /// The signature could not be processed (an unknown algorithm, too many signatures).
    case neutral
    /// The key could not be fetched: trying again later may work (a DNS timeout).
    case temperror
    /// The signature or its key record is unusable: trying again will not help.
    case permerror
    /// The signature verified but covers too little to be trusted (`l=` left body unsigned).
    case policy
    /// The message has no signature.
    case none
}

/// What checking one signature (DKIM-Signature or ARC-Message-Signature) found.
public struct DKIMCheck: Sendable, Equatable {
    /// The result.
    public var result: DKIMResult
    /// Why, in a few words (for a comment in Authentication-Results and for logs); empty for a pass.
    public var reason: String
    /// The signing domain (`d=`), lower case, when the signature names one.
    public var domain: String?
    /// The selector (`s=`).
    public var selector: String?
    /// The first characters of `b=` (RFC 6008 `header.b`), to tell signatures apart.
    public var signaturePrefix: String?

    /// A result from parts.
    public init(
        _ result: DKIMResult, _ reason: String = "", domain: String? = nil, selector: String? = nil,
        signaturePrefix: String? = nil
    ) {
        self.result = result
        self.reason = reason
        self.domain = domain
        self.selector = selector
        self.signaturePrefix = signaturePrefix
    }

    /// `dkim=RESULT (reason) header.d=D header.s=S header.b=B`: one resinfo of Authentication-Results.
    public var resinfo: AuthenticationResult {
        var properties: [(String, String)] = []
        if let domain { properties.append(("header.d", domain)) }
        if let selector { properties.append(("header.s", selector)) }
        if let signaturePrefix { properties.append(("header.b", signaturePrefix)) }
        return AuthenticationResult(method: "dkim", result: result.rawValue, comment: reason, properties: properties)
    }
}
