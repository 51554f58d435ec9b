/// A DKIM public key record (RFC 6376 3.6.1), the TXT record at `SELECTOR._domainkey.DOMAIN`:
/// `v=DKIM1; k=rsa; p=BASE64`, read without crypto (the key bytes are parsed by PostroomDKIM).
public struct DKIMKeyRecord: Sendable, Equatable {
    /// `k=`: `rsa` (the default) or `ed25519`, lower case.
    public let keyType: String
    /// `p=`, decoded: DER (SubjectPublicKeyInfo or PKCS#1) for RSA, 32 raw bytes for Ed25519.
    /// Empty when the key was revoked.
    public let publicKey: [UInt8]
    /// `h=`: the hash algorithms the key may be used with, lower case (nil: any).
    public let hashAlgorithms: [String]?
    /// `t=s`: the signature's `i=` must be in `d=` itself, not a subdomain.
    public let strict: Bool
    /// `t=y`: the domain is testing DKIM.
    public let testing: Bool

    /// Whether the key was revoked (`p=` empty).
    public var isRevoked: Bool { publicKey.isEmpty }

    /// Parses a record; throws why it is not a usable key record (the signature's permerror).
    public init(parsing text: String) throws(DKIMKeyRecordError) {
        guard let tags = DKIMTagList(parsing: text) else {
            throw DKIMKeyRecordError("the key record is not a tag list")
        }
        if let version = tags["v"] {
            guard version == "DKIM1", tags.tags.first?.name == "v" else {
                throw DKIMKeyRecordError("the key record's v= is not DKIM1 first")
            }
        }
        guard let key = tags["p"] else { throw DKIMKeyRecordError("the key record has no p=") }
        guard let decoded = Base64.decode(Array(DKIMTagList.withoutWhitespace(key).utf8)) else {
            throw DKIMKeyRecordError("the key record's p= is not base64")
        }
        keyType = (tags["k"] ?? "rsa").lowercased()
        publicKey = decoded
        hashAlgorithms = tags["h"].map { Self.list($0) }
        if let services = tags["s"].map({ Self.list($0) }), !services.contains("*"), !services.contains("email") {
            throw DKIMKeyRecordError("the key record's s= does not allow email")
        }
        let flags = tags["t"].map { Self.list($0) } ?? []
        strict = flags.contains("s")
        testing = flags.contains("y")
    }

    /// A colon-separated list, items trimmed and lower case.
    private static func list(_ text: String) -> [String] {
        text.split(separator: ":").map { DKIMTagList.withoutWhitespace(String($0)).lowercased() }
    }

    /// Whether a signature with `algorithm` may use this key: the key type matches and `h=`
    /// allows SHA-256. Nil when it may, else the reason it may not.
    public func refusal(of algorithm: DKIMAlgorithm) -> String? {
        let type = algorithm == .rsaSHA256 ? "rsa" : "ed25519"
        guard keyType == type else { return "the key is k=\(keyType), the signature a=\(algorithm.rawValue)" }
        if let hashAlgorithms, !hashAlgorithms.contains("sha256") { return "the key's h= does not allow sha256" }
        return nil
    }
}

/// Why a key record cannot be used.
public struct DKIMKeyRecordError: Error, Sendable, Equatable {
    /// What is wrong, in a few words.
    public let reason: String

    /// An error saying `reason`.
    public init(_ reason: String) {
        self.reason = reason
    }
}
