/// The three fields of a new ARC set being made (RFC 8617 4.1): their text, folded, and the
/// data their signatures sign. Crypto-free: the caller hashes the body and signs.
public struct ARCSetFields: Sendable {
    /// The instance the set gets (`i=`).
    public var instance: Int
    /// The signing algorithm of both signatures (`a=`).
    public var algorithm: DKIMAlgorithm
    /// The sealing domain (`d=`).
    public var domain: String
    /// The selector (`s=`).
    public var selector: String
    /// When it was sealed (`t=`), seconds since 1970.
    public var timestamp: Int
    /// The chain validation state the seal records (`cv=`).
    public var chainValidation: ARCChainValidation
    /// Line ending of the fields made: the message's own.
    public var lineEnding: Message.LineEnding

    /// A set for these tags.
    public init(
        instance: Int, algorithm: DKIMAlgorithm, domain: String, selector: String, timestamp: Int,
        chainValidation: ARCChainValidation, lineEnding: Message.LineEnding = .lf
    ) {
        self.instance = instance
        self.algorithm = algorithm
        self.domain = domain
        self.selector = selector
        self.timestamp = timestamp
        self.chainValidation = chainValidation
        self.lineEnding = lineEnding
    }

    /// The field names the message signature covers for `fields`: those DKIM signing covers,
    /// each once more than it occurs, and every DKIM-Signature present (not oversigned, so a
    /// later hop can still sign); never an ARC field (4.1.2).
    public static func messageSignatureNames(in fields: [HeaderField]) -> [String] {
        DKIMHeaderSelection.oversigned(DKIMHeaderSelection.signedFieldNames, in: fields)
            + Array(repeating: DKIMSignatureField.name, count: fields.count { $0.hasName(DKIMSignatureField.name) })
    }

    /// `ARC-Authentication-Results: i=N; RESULTS`, folded at spaces; throws when `results`
    /// has a word too long for a line.
    public func authenticationResults(_ results: String) throws(PostroomError) -> HeaderField {
        try HeaderWriter.field(
            ARCSet.authenticationResultsName, "i=\(instance); \(results)", lineEnding: lineEnding, style: .structured)
    }

    /// The ARC-Message-Signature with `signature` as `b=` (empty while hashing): a DKIM
    /// signature without `v=`, relaxed/relaxed, over `signedNames` and a body hashed to `bodyHash`.
    public func messageSignature(signedNames: [String], bodyHash: [UInt8], signature: [UInt8]) -> HeaderField {
        var tokens = [
            "i=\(instance);", "a=\(algorithm.rawValue);", "c=relaxed/relaxed;", "d=\(domain);", "s=\(selector);",
            "t=\(timestamp);",
        ].map { (text: $0, glued: false) }
        for (index, name) in signedNames.enumerated() {
            let text = (index == 0 ? "h=" : "") + name + (index == signedNames.count - 1 ? ";" : ":")
            tokens.append((text, index > 0))
        }
        tokens.append(("bh=\(Base64.encode(bodyHash));", false))
        return DKIMSignatureField.folded(
            ARCSet.messageSignatureName, tokens: tokens, signature: signature, lineEnding: lineEnding)
    }

    /// The ARC-Seal with `signature` as `b=` (empty while hashing).
    public func seal(signature: [UInt8]) -> HeaderField {
        let tokens = [
            "i=\(instance);", "a=\(algorithm.rawValue);", "t=\(timestamp);", "cv=\(chainValidation.rawValue);",
            "d=\(domain);", "s=\(selector);",
        ].map { (text: $0, glued: false) }
        return DKIMSignatureField.folded(ARCSet.sealName, tokens: tokens, signature: signature, lineEnding: lineEnding)
    }

    /// The bytes the message signature signs: the fields `signedNames` select from `fields`
    /// and the signature itself with an empty `b=` (RFC 6376 3.7).
    public func messageSignatureSignedData(
        fields: [HeaderField], signedNames: [String], bodyHash: [UInt8]
    )
        -> [UInt8]
    {
        let unsigned = messageSignature(signedNames: signedNames, bodyHash: bodyHash, signature: [])
        // The field just written always has h= and b=.
        return DKIMSignedData(unsigned)?.signingInput(fields: fields) ?? []
    }

    /// The bytes the seal signs: `previous` (the chain's sets before this one; none when
    /// `cv=fail`, 5.1.2), then this set with an empty seal `b=`.
    public func sealSignedData(
        previous: some Sequence<ARCSet>, authenticationResults: HeaderField, messageSignature: HeaderField
    ) -> [UInt8] {
        ARCSet.sealSignedData(
            previous: chainValidation == .fail ? [] : Array(previous), authenticationResults: authenticationResults,
            messageSignature: messageSignature, unsignedSeal: seal(signature: []))
    }
}
