import Crypto
import PostroomCore

/// Signs outgoing messages with the DKIM keys of their From domain (RFC 6376, RFC 8463).
///
/// The key whose domain is the From domain, or its closest parent, signs; with an RSA and an
/// Ed25519 key for that domain, the message gets two signatures. Only the bytes that go on the
/// wire are signed: call it after `Bcc` and the `X-Postroom-` fields are gone.
public struct DKIMSigner: Sendable {
    /// Every configured key.
    public let keys: [DKIMKey]
    /// Header and body canonicalisation.
    public var canonicalization: (header: DKIMCanonicalization, body: DKIMCanonicalization) = (.relaxed, .relaxed)
    /// The names signed, each once more than it occurs.
    public var fieldNames = DKIMHeaderSelection.signedFieldNames

    /// A signer with these keys.
    public init(keys: [DKIMKey]) {
        self.keys = keys
    }

    /// The keys named by `--dkim` flags, else by the `dkim` key of the configuration (a
    /// comma-separated list), loaded; nil when none is named. The canonicalisation is
    /// `canonicalization` (`--dkim-canonicalization`, a usage error when bad), else the
    /// `dkim_canonicalization` key (a configuration error when bad).
    public static func configured(
        flags: [String], canonicalization: String? = nil, configuration: Configuration
    ) throws(PostroomError) -> DKIMSigner? {
        let modes = canonicalization ?? configuration.value(Configuration.dkimCanonicalization) ?? "relaxed/relaxed"
        guard let pair = DKIMCanonicalization.pair(parsing: modes) else {
            let choices = "relaxed/relaxed, relaxed/simple, simple/relaxed or simple/simple"
            if canonicalization != nil {
                throw .usage("--dkim-canonicalization \"\(modes.escapingControls)\" is not HEADER/BODY: \(choices)")
            }
            throw .configuration(
                location: configuration.path ?? "configuration",
                reason: "dkim_canonicalization \"\(modes.escapingControls)\" is not HEADER/BODY: \(choices)")
        }
        let names: [DKIMKey.Name]
        // A bad specification is a configuration error (exit 78), from the command line too.
        if !flags.isEmpty {
            names = try flags.map { (text) throws(PostroomError) in
                do throws(DKIMKeyName.ParseError) {
                    return try DKIMKeyName(parsing: text)
                } catch {
                    throw .configuration(location: "--dkim", reason: error.description)
                }
            }
        } else if let list = configuration.value(Configuration.dkim) {
            do throws(DKIMKeyName.ParseError) {
                names = try DKIMKeyName.parseList(list)
            } catch {
                throw .configuration(location: configuration.path ?? "configuration", reason: error.description)
            }
        } else {
            names = []
        }
        guard !names.isEmpty else { return nil }
        let suffixes = try? PublicSuffixList.configured(configuration)
        for (index, name) in names.enumerated() {
            if let problem = suffixes?.signingDomainProblem(name.domain) {
                throw .configuration(location: name.keyFile, reason: "the DKIM key's domain \(problem)")
            }
            let same = names[..<index].contains { $0.domain == name.domain && $0.selector == name.selector }
            if same {
                throw .configuration(
                    location: name.keyFile, reason: "DKIM selector \(name.selector) of \(name.domain) is named twice")
            }
        }
        let keys = try names.map { (name) throws(PostroomError) in try DKIMKey(loading: name) }
        for (index, key) in keys.enumerated()
        where keys[..<index].contains(where: { $0.name.domain == key.name.domain && $0.algorithm == key.algorithm }) {
            throw .configuration(
                location: key.name.keyFile,
                reason: "\(key.name.domain) has two \(key.algorithm.rawValue) keys; give each domain one per algorithm")
        }
        // A key that cannot sign stops deliver now, not at the first message.
        for key in keys { _ = try key.sign([]) }
        var signer = DKIMSigner(keys: keys)
        signer.canonicalization = pair
        return signer
    }

    /// The keys that sign mail from `domain`: those of the domain itself, else of its closest parent.
    public func keys(for domain: String) -> [DKIMKey] {
        var candidate = Substring(domain.lowercased())
        while !candidate.isEmpty {
            let found = keys.filter { $0.name.domain == candidate }
            if !found.isEmpty { return found }
            guard let dot = candidate.firstIndex(of: ".") else { break }
            candidate = candidate[candidate.index(after: dot)...]
        }
        return []
    }

    /// What signing did.
    public enum Outcome: Sendable, Equatable {
        /// Signed by these keys (`d=` and `s=`).
        case signed([DKIMKey.Name])
        /// Sent unsigned: no key for the From domain (nil: no From address to take a domain from).
        case noKey(domain: String?)

        /// Why the message goes out unsigned, for a warning; nil when it was signed.
        public var unsignedReason: String? {
            guard case .noKey(let domain) = self else { return nil }
            return "no DKIM key for " + (domain.map { "the From domain \($0)" } ?? "a message without a From address")
        }
    }

    /// Prepends a DKIM-Signature to `header` for each key of its From domain. `body` calls its
    /// argument with the body in pieces, as it goes on the wire.
    public func sign(
        header: inout Message, timestamp: Int?,
        body: (_ consume: ([UInt8]) -> Void) throws(PostroomError) -> Void
    ) throws(PostroomError) -> Outcome {
        let domain = header.value(of: "From").flatMap { try? AddressParser.parseList($0) }?.first?.mailboxes.first?
            .domain
        guard let domain, !domain.isEmpty else { return .noKey(domain: nil) }
        let signing = keys(for: domain)
        guard !signing.isEmpty else { return .noKey(domain: domain.lowercased()) }
        var canonicalizer = DKIMBodyCanonicalizer(canonicalization.body)
        var hasher = SHA256()
        try body { hasher.update(data: canonicalizer.update($0)) }
        hasher.update(data: canonicalizer.finish())
        let bodyHash = Array(hasher.finalize())
        let names = DKIMHeaderSelection.oversigned(fieldNames, in: header.fields)
        var signatures: [HeaderField] = []
        for key in signing {
            let template = DKIMSignatureField(
                algorithm: key.algorithm, domain: key.name.domain, selector: key.name.selector,
                canonicalization: canonicalization, signedNames: names, bodyHash: bodyHash, timestamp: timestamp)
            let input = template.signingInput(fields: header.fields, lineEnding: header.lineEnding)
            signatures.append(template.field(signature: try key.sign(input), lineEnding: header.lineEnding))
        }
        // Above any older signature and the trace fields a relay adds later go above these.
        header.prepend(fields: signatures)
        return .signed(signing.map(\.name))
    }
}
