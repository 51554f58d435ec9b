import Crypto
import Glibc
import PostroomCore
import _CryptoExtras

/// `postroom dkim-keygen`: a new DKIM private key in a file, and the DNS record that
/// publishes its public half (RFC 6376 section 3.6.1; Ed25519 as RFC 8463 has it).
public struct DKIMKeyGeneration: Sendable {
    /// The signing algorithm the key is for.
    public enum Algorithm: String, Sendable, CaseIterable {
        /// `rsa-sha256`, `k=rsa`.
        case rsa
        /// `ed25519-sha256`, `k=ed25519`.
        case ed25519
    }

    /// RSA key sizes offered: below 2048 bits receivers treat the signature as absent.
    public static let rsaSizes = [2048, 3072, 4096]

    /// The signing domain (`d=`), lower-cased, without a trailing dot.
    public let domain: String
    /// The selector (`s=`).
    public let selector: String
    /// The key type.
    public let algorithm: Algorithm
    /// The RSA modulus size in bits (nil for Ed25519).
    public let bits: Int?

    /// Checks the request: the domain and selector are DNS names, the domain no public suffix
    /// of `publicSuffixList`, the size one of `rsaSizes`. Everything refused is a usage error (exit 64).
    public init(
        domain: String, selector: String, algorithm: Algorithm, bits: Int?, publicSuffixList: PublicSuffixList
    ) throws(PostroomError) {
        var name = domain.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        if let problem = Self.problem(inDomainName: name) {
            throw .usage("--domain \"\(domain.escapingControls)\" is not a domain name: \(problem)")
        }
        if let problem = publicSuffixList.signingDomainProblem(name) { throw .usage("--domain \(problem)") }
        if let problem = Self.problem(inDomainName: selector) {
            throw .usage(
                "--selector \"\(selector.escapingControls)\" is not a DNS name: \(problem) (for example s2026 or mail)")
        }
        switch algorithm {
        case .rsa:
            let size = bits ?? 2048
            guard Self.rsaSizes.contains(size) else {
                let why = size < 2048 ? "shorter RSA keys are treated as unsigned by large receivers" : "not offered"
                throw .usage("--bits \(size): \(why); choose 2048, 3072 or 4096")
            }
            self.bits = size
        case .ed25519:
            guard bits == nil else { throw .usage("--bits is for RSA keys; an Ed25519 key has no size to choose") }
            self.bits = nil
        }
        self.domain = name
        self.selector = selector.lowercased()
        self.algorithm = algorithm
    }

    /// What is wrong with `name` as a DNS name of letter-digit-hyphen labels, or nil.
    static func problem(inDomainName name: String) -> String? {
        guard !name.isEmpty else { return "it is empty" }
        guard name.utf8.count <= 253 else { return "longer than 253 characters" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { return "it has an empty label (two dots, or a leading dot)" }
            guard label.utf8.count <= 63 else { return "the label \"\(label)\" is longer than 63 characters" }
            guard label.utf8.allSatisfy({ $0 < 128 && (isalnum(Int32($0)) != 0 || $0 == UInt8(ascii: "-")) }) else {
                return "the label \"\(String(label).escapingControls)\" has characters other than letters, digits and -"
            }
            guard label.first != "-", label.last != "-" else {
                return "the label \"\(label)\" starts or ends with -"
            }
        }
        return nil
    }

    /// A generated key: the private key file's text and the public key for the record.
    public struct Key: Sendable {
        /// The private key as PEM: PKCS#1 for RSA (`openssl genrsa -traditional`, what OpenDKIM and
        /// dkimpy read), PKCS#8 for Ed25519 (as `openssl genpkey -algorithm ed25519` writes it).
        public var privateKeyPEM: String
        /// The `p=` value: base64 of the SubjectPublicKeyInfo (RSA) or of the raw 32-byte key (Ed25519).
        public var publicKey: String
    }

    /// Makes a new key.
    public func generate() throws(PostroomError) -> Key {
        switch algorithm {
        case .rsa:
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits ?? 2048))
            } catch {
                throw .unavailable("cannot generate an RSA key: \(error)")
            }
            return Key(privateKeyPEM: key.pemRepresentation, publicKey: Base64.encode(key.publicKey.derRepresentation))
        case .ed25519:
            let key = Curve25519.Signing.PrivateKey()
            return Key(
                privateKeyPEM: Self.ed25519PKCS8PEM(seed: Array(key.rawRepresentation)),
                publicKey: Base64.encode(key.publicKey.rawRepresentation))
        }
    }

    /// An Ed25519 private key as RFC 8410 PKCS#8: the fixed DER prefix, then the 32-byte seed.
    static func ed25519PKCS8PEM(seed: [UInt8]) -> String {
        let prefix: [UInt8] = [
            0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ]
        let encoded = Base64.encodedBytes(prefix + seed, lineLength: 64, lineEnding: [10])
        return "-----BEGIN PRIVATE KEY-----\n" + String(decoding: encoded, as: UTF8.self)
            + "-----END PRIVATE KEY-----\n"
    }

    /// The TXT record's text: `v=DKIM1; k=…; p=…`.
    public func recordValue(_ key: Key) -> String {
        "v=DKIM1; k=\(algorithm.rawValue); p=\(key.publicKey)"
    }

    /// The record in zone-file syntax, its value split into quoted strings of at most 255 bytes
    /// (the most one TXT string holds; resolvers join them).
    public func zoneRecord(_ key: Key) -> String {
        let value = Array(recordValue(key).utf8)
        var strings: [String] = []
        var start = 0
        while start < value.count {
            let end = min(start + 255, value.count)
            strings.append("\"" + String(decoding: value[start..<end], as: UTF8.self) + "\"")
            start = end
        }
        let owner = "\(selector)._domainkey.\(domain)."
        if strings.count == 1 { return "\(owner) IN TXT \(strings[0])" }
        return "\(owner) IN TXT ( " + strings.joined(separator: "\n\t") + " )"
    }

    /// Writes the private key to `path` (mode 600, never over an existing file, synced) and
    /// returns what to print: the record, then the `--dkim` value and the configuration line as
    /// zone-file comments, so the whole text can go into a zone file as it is.
    public func write(_ key: Key, to path: String) throws(PostroomError) -> String {
        try FileSystem.createExclusively(path, Array(key.privateKeyPEM.utf8), mode: 0o600)
        let spec = "\(domain):\(selector):\(Self.absolute(path))"
        return """
            \(zoneRecord(key))
            ; sign with: deliver --dkim \(spec)
            ; or in postroom.conf: dkim = \(spec)

            """
    }

    /// `path` from the root, so the printed key specification works from any directory.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let buffer = getcwd(nil, 0) else { return path }
        defer { free(buffer) }
        let directory = String(cString: buffer)
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}
