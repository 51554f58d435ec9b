import Crypto
import PostroomCore
import _CryptoExtras

/// A DKIM signing key, named as OpenDKIM's KeyTable names keys: `DOMAIN:SELECTOR:KEYFILE`.
///
/// The key file is PEM: an RSA key of 2048 bits or more (`BEGIN PRIVATE KEY` or
/// `BEGIN RSA PRIVATE KEY`) or an Ed25519 key in PKCS#8 (`BEGIN PRIVATE KEY`, as
/// `openssl genpkey -algorithm ed25519` writes it). It must not be readable by others.
public struct DKIMKey: Sendable {
    /// Where a key comes from: `DOMAIN:SELECTOR:KEYFILE`.
    public typealias Name = DKIMKeyName

    private enum PrivateKey: @unchecked Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case ed25519(Curve25519.Signing.PrivateKey)
    }

    /// Where it came from.
    public let name: Name
    private let key: PrivateKey

    /// The algorithm the key signs with.
    public var algorithm: DKIMAlgorithm {
        switch key {
        case .rsa: .rsaSHA256
        case .ed25519: .ed25519SHA256
        }
    }

    /// Reads and parses the key file, which must be readable by its owner only.
    public init(loading name: Name) throws(PostroomError) {
        self.name = name
        let bytes = try SecretFile.read(name.keyFile, purpose: "DKIM key")
        key = try Self.parse(pem: String(decoding: bytes, as: UTF8.self), location: name.keyFile)
    }

    /// A key from PEM text, for tests and tools.
    public init(name: Name, pem: String) throws(PostroomError) {
        self.name = name
        key = try Self.parse(pem: pem, location: name.keyFile)
    }

    /// The public key as published in DNS: the base64 `p=` value of the TXT record.
    public var publicKeyBase64: String {
        switch key {
        case .rsa(let rsa): Base64.encode(Array(rsa.publicKey.derRepresentation))
        case .ed25519(let ed): Base64.encode(Array(ed.publicKey.rawRepresentation))
        }
    }

    /// Signs `data` (the DKIM signing input): RSASSA-PKCS1-v1_5 over its SHA-256, or Ed25519
    /// over its SHA-256 (RFC 8463 3).
    public func sign(_ data: [UInt8]) throws(PostroomError) -> [UInt8] {
        let digest = SHA256.hash(data: data)
        do {
            switch key {
            case .rsa(let rsa):
                return Array(try rsa.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .ed25519(let ed):
                return Array(try ed.signature(for: Array(digest)))
            }
        } catch {
            throw .configuration(location: name.keyFile, reason: "the DKIM key cannot sign: \(error)")
        }
    }

    /// The DER prefix of an Ed25519 private key in PKCS#8 (RFC 8410 7): the 32-byte seed follows.
    private static let ed25519PKCS8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    private static func parse(pem: String, location: String) throws(PostroomError) -> PrivateKey {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") }),
            let end = lines[begin...].firstIndex(where: { $0.hasPrefix("-----END ") })
        else {
            throw .configuration(
                location: location,
                reason: "not a PEM key (no -----BEGIN line); see postroom-deliver(8) for the key formats")
        }
        if lines[begin] == "-----BEGIN PRIVATE KEY-----",
            let der = Base64.decode(Array(lines[(begin + 1)..<end].joined().utf8)),
            der.count == ed25519PKCS8Prefix.count + 32,
            Array(der.prefix(ed25519PKCS8Prefix.count)) == ed25519PKCS8Prefix
        {
            do {
                return .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)))
            } catch {
                throw .configuration(location: location, reason: "the Ed25519 key does not parse: \(error)")
            }
        }
        let rsa: _RSA.Signing.PrivateKey
        do {
            rsa = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
        } catch {
            throw .configuration(
                location: location,
                reason:
                    "not an RSA or Ed25519 private key in PEM (\(error)); see postroom-deliver(8) for the key formats")
        }
        guard rsa.keySizeInBits >= 2048 else {
            throw .configuration(
                location: location,
                reason: "the RSA key has \(rsa.keySizeInBits) bits; DKIM keys need 2048 or more (RFC 8301)")
        }
        return .rsa(rsa)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(
            drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }
                .reversed())
    }
}
