import Crypto
import PostroomCore

/// Adds an ARC set (RFC 8617) to list copies, with the DKIM key of the sealing domain.
///
/// `route` verifies an incoming list post once and asks, in each copy's control fields, for
/// the set to add (`ARCSealRequest`); the sealer signs the bytes that go on the wire, so call
/// it after `Bcc` and the `X-Postroom-` fields are gone and after DKIM signing (the message
/// signature covers the DKIM-Signature fields).
public struct ARCSealer: Sendable {
    /// The configured DKIM keys, chosen as DKIM signing chooses them.
    public let signer: DKIMSigner

    /// A sealer with the keys of `signer`.
    public init(signer: DKIMSigner) {
        self.signer = signer
    }

    /// What sealing did.
    public enum Outcome: Sendable, Equatable {
        /// Sealed as instance `instance` with this key.
        case sealed(instance: Int, key: DKIMKey.Name)
        /// Sent unsealed: no RSA key for the sealing domain (`onlyEd25519`: it has an Ed25519 key,
        /// which ARC validators such as dkimpy do not accept).
        case noKey(domain: String, onlyEd25519: Bool)
        /// Sent unsealed: the request does not fit the ARC fields already in the message.
        case mismatch(ARCChainError)

        /// Why the copy goes out unsealed, for a warning; nil when it was sealed.
        public var unsealedReason: String? {
            switch self {
            case .sealed: nil
            case .noKey(let domain, let onlyEd25519):
                "\(onlyEd25519 ? "only an Ed25519 key (ARC seals with RSA)" : "no DKIM key") for the ARC sealing domain \(domain)"
            case .mismatch(let error): "the ARC request does not fit the message (\(error.reason))"
            }
        }
    }

    /// Seals as `seal(header:request:timestamp:body:)` does with the keys of `signer`; with no
    /// keys configured (nil), `.noKey`.
    public static func seal(
        header: inout Message, request: ARCSealRequest, timestamp: Int, signer: DKIMSigner?,
        body: (_ consume: ([UInt8]) -> Void) throws(PostroomError) -> Void
    ) throws(PostroomError) -> Outcome {
        guard let signer else { return .noKey(domain: request.domain, onlyEd25519: false) }
        return try ARCSealer(signer: signer).seal(header: &header, request: request, timestamp: timestamp, body: body)
    }

    /// The key that seals for `domain`: its (or its closest parent's) RSA key. RFC 8617 seals
    /// with rsa-sha256 and validators (dkimpy's among them) refuse ed25519-sha256 in ARC.
    public func key(for domain: String) -> DKIMKey? {
        signer.keys(for: domain).first { $0.algorithm == .rsaSHA256 }
    }

    /// Prepends the set `request` asks for to `header` (the header as it goes on the wire).
    /// `body` calls its argument with the body in pieces, as it goes on the wire.
    public func seal(
        header: inout Message, request: ARCSealRequest, timestamp: Int,
        body: (_ consume: ([UInt8]) -> Void) throws(PostroomError) -> Void
    ) throws(PostroomError) -> Outcome {
        do {
            try request.checkExisting(header.fields)
        } catch {
            return .mismatch(error)
        }
        guard let key = key(for: request.domain) else {
            return .noKey(domain: request.domain, onlyEd25519: !signer.keys(for: request.domain).isEmpty)
        }
        var canonicalizer = DKIMBodyCanonicalizer(.relaxed)
        var hasher = SHA256()
        try body { hasher.update(data: canonicalizer.update($0)) }
        hasher.update(data: canonicalizer.finish())
        let bodyHash = Array(hasher.finalize())
        let set = ARCSetFields(
            instance: request.instance, algorithm: key.algorithm, domain: key.name.domain,
            selector: key.name.selector, timestamp: timestamp, chainValidation: request.chainValidation,
            lineEnding: header.lineEnding)
        let results: HeaderField
        do {
            results = try set.authenticationResults(request.results)
        } catch {
            return .mismatch(ARCChainError("\(ControlHeader.arcResults.rawValue) cannot be written: \(error)"))
        }
        let names = ARCSetFields.messageSignatureNames(in: header.fields)
        let messageSignature = set.messageSignature(
            signedNames: names, bodyHash: bodyHash,
            signature: try key.sign(
                set.messageSignatureSignedData(fields: header.fields, signedNames: names, bodyHash: bodyHash)))
        let sealData = set.sealSignedData(
            previous: request.previousSets(in: header.fields), authenticationResults: results,
            messageSignature: messageSignature)
        let seal = set.seal(signature: try key.sign(sealData))
        header.prepend(fields: [seal, messageSignature, results])
        return .sealed(instance: request.instance, key: key.name)
    }
}
