import Crypto
import PostroomCore

/// Verifies the DKIM signatures of a received message (RFC 6376 6, RFC 8463), fetching each
/// key from `SELECTOR._domainkey.DOMAIN` in DNS; also checks ARC-Message-Signatures, which
/// are verified the same way.
///
/// Results are Authentication-Results' (RFC 8601): pass, fail, neutral, policy, permerror, and
/// temperror when DNS gives no answer. A signature with `l=` that leaves part of the body
/// unsigned is `policy`, never `pass`: text appended below the signed part is not vouched for.
public final class DKIMVerifier: @unchecked Sendable {
    /// How TXT records are looked up: DNS in use, a table in tests.
    public typealias Lookup = (_ name: String) -> DNSTXTLookup

    /// At most this many DKIM-Signature fields are checked (the topmost); others are not reported.
    public var maximumSignatures = 5
    /// The time expiry (`x=`) is compared with, seconds since 1970.
    public let now: Int
    private let lookup: Lookup
    /// Keys fetched so far, by DNS name: a message with several signatures of one key asks once.
    private var keys: [String: Result<KeyRecord, DKIMCheckFailure>] = [:]

    private struct KeyRecord {
        let record: DKIMKeyRecord
        let key: DKIMPublicKey
    }

    /// A verifier asking `resolver` for keys.
    public convenience init(resolver: DNSResolver, now: Int) {
        self.init(now: now) { resolver.txt($0) }
    }

    /// A verifier taking keys from `lookup`.
    public init(now: Int, lookup: @escaping Lookup) {
        self.now = now
        self.lookup = lookup
    }

    /// Checks the DKIM-Signature fields of `message`, topmost (newest) first; `[]` when it has none.
    public func verify(_ message: Message) -> [DKIMCheck] {
        let fields = message.fields.filter { $0.hasName(DKIMSignatureField.name) }.prefix(maximumSignatures)
        return fields.map { check($0, in: message, kind: .dkim) }
    }

    /// Checks one signature field of `message`.
    public func check(_ field: HeaderField, in message: Message, kind: DKIMReceivedSignature.Kind) -> DKIMCheck {
        let signature: DKIMReceivedSignature
        do {
            signature = try DKIMReceivedSignature(field, kind: kind, now: now)
        } catch {
            return error.check
        }
        return check(signature, in: message)
    }

    /// Checks a signature already read from `message`.
    public func check(_ signature: DKIMReceivedSignature, in message: Message) -> DKIMCheck {
        guard let body = signature.canonicalBody(message.body) else {
            return signature.check(.permerror, "l= is longer than the body")
        }
        guard Array(SHA256.hash(data: body.bytes)) == signature.bodyHash else {
            return signature.check(.fail, "body hash did not verify")
        }
        let checked = checkSignature(
            signature.signature, over: signature.signedData.signingInput(fields: message.fields),
            algorithm: signature.algorithm, domain: signature.domain, selector: signature.selector,
            identity: signature.identity, signaturePrefix: signature.signaturePrefix)
        if checked.result == .pass && body.unsigned > 0 {
            return signature.check(.policy, "l= leaves \(body.unsigned) bytes of the body unsigned")
        }
        return checked
    }

    /// Checks `signature` over `data` with the key `selector` of `domain` publishes: what a
    /// DKIM signature, an ARC-Message-Signature and an ARC-Seal have in common.
    func checkSignature(
        _ signature: [UInt8], over data: [UInt8], algorithm: DKIMAlgorithm, domain: String, selector: String,
        identity: String?, signaturePrefix: String
    ) -> DKIMCheck {
        func check(_ result: DKIMResult, _ reason: String = "") -> DKIMCheck {
            DKIMCheck(result, reason, domain: domain, selector: selector, signaturePrefix: signaturePrefix)
        }
        let found: KeyRecord
        switch key(domain: domain, selector: selector) {
        case .success(let key): found = key
        case .failure(let failure): return check(failure.check.result, failure.check.reason)
        }
        if let refusal = found.record.refusal(of: algorithm) { return check(.permerror, refusal) }
        if found.record.strict, let identity, IncomingMessage.split(identity).domain.lowercased() != domain {
            return check(.permerror, "the key has t=s and i= is a subdomain of d=")
        }
        guard found.key.isValidSignature(signature, for: data) else { return check(.fail, "signature did not verify") }
        return check(.pass)
    }

    /// The key published for `selector` of `domain`, fetched once per verifier.
    private func key(domain: String, selector: String) -> Result<KeyRecord, DKIMCheckFailure> {
        let name = "\(selector)._domainkey.\(domain)"
        if let known = keys[name] { return known }
        let result = fetch(name)
        keys[name] = result
        return result
    }

    private func fetch(_ name: String) -> Result<KeyRecord, DKIMCheckFailure> {
        let records: [String]
        switch lookup(name) {
        case .unavailable(let reason): return .failure(DKIMCheckFailure(DKIMCheck(.temperror, reason)))
        case .noRecord: return .failure(DKIMCheckFailure(DKIMCheck(.permerror, "no key record at \(name)")))
        case .found(let texts): records = texts
        }
        var problem = "no key record at \(name)"
        // Several records: the first usable one (RFC 6376 3.6.2.2 leaves the choice to the verifier).
        for text in records {
            do throws(DKIMKeyRecordError) {
                let record = try DKIMKeyRecord(parsing: text)
                return .success(KeyRecord(record: record, key: try DKIMPublicKey(record: record)))
            } catch {
                problem = "\(name): \(error.reason)"
            }
        }
        return .failure(DKIMCheckFailure(DKIMCheck(.permerror, problem)))
    }
}
