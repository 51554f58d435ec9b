/// The signing algorithms postroom writes and reads.
public enum DKIMAlgorithm: String, Sendable, CaseIterable {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 3.3.1).
    case rsaSHA256 = "rsa-sha256"
    /// Ed25519 over the SHA-256 of the signed data (RFC 8463).
    case ed25519SHA256 = "ed25519-sha256"
}

/// Which header fields a signature covers (RFC 6376 5.4).
public enum DKIMHeaderSelection {
    /// The fields postroom signs: what identifies, addresses and presents the message, and the
    /// one-click unsubscribe fields receivers require a signature over.
    public static let signedFieldNames = [
        "From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Reply-To", "In-Reply-To", "References", "List-Id", "List-Unsubscribe",
        "List-Unsubscribe-Post",
    ]

    /// The `h=` names for `fields`: each of `names` once more than it occurs ("oversigning"),
    /// so a field of that name added later breaks the signature.
    public static func oversigned(_ names: [String], in fields: [HeaderField]) -> [String] {
        let fieldNames = fields.map { $0.name.asciiLowercased }
        return names.flatMap { name in
            let lower = name.asciiLowercased
            return Array(repeating: name, count: fieldNames.count(where: { $0 == lower }) + 1)
        }
    }

    /// The fields that `h=` names pick, in `h=` order: each name takes the last instance not
    /// yet taken (5.4.2); a name with none left picks nothing.
    public static func select(_ names: [String], from fields: [HeaderField]) -> [HeaderField] {
        let fieldNames = fields.map { $0.name.asciiLowercased }
        var taken = [Bool](repeating: false, count: fields.count)
        var selected: [HeaderField] = []
        for name in names {
            let lower = name.asciiLowercased
            guard let index = fieldNames.indices.last(where: { !taken[$0] && fieldNames[$0] == lower }) else {
                continue
            }
            taken[index] = true
            selected.append(fields[index])
        }
        return selected
    }
}

/// A DKIM-Signature field being made: its tags, the data to sign, and the field folded with
/// the signature in place. Crypto-free: the caller hashes the body and signs.
public struct DKIMSignatureField: Sendable {
    /// The field's name.
    public static let name = "DKIM-Signature"
    /// Width that lines of the field are folded to.
    static let width = 78

    /// The signing algorithm (`a=`).
    public var algorithm: DKIMAlgorithm
    /// The signing domain (`d=`).
    public var domain: String
    /// The selector (`s=`).
    public var selector: String
    /// Header and body canonicalisation (`c=`).
    public var canonicalization: (header: DKIMCanonicalization, body: DKIMCanonicalization)
    /// The signed field names (`h=`), in order, repeats included.
    public var signedNames: [String]
    /// The hash of the canonical body (`bh=`).
    public var bodyHash: [UInt8]
    /// When it was signed (`t=`), seconds since 1970.
    public var timestamp: Int?

    /// A field for these tags.
    public init(
        algorithm: DKIMAlgorithm, domain: String, selector: String,
        canonicalization: (header: DKIMCanonicalization, body: DKIMCanonicalization), signedNames: [String],
        bodyHash: [UInt8], timestamp: Int?
    ) {
        self.algorithm = algorithm
        self.domain = domain
        self.selector = selector
        self.canonicalization = canonicalization
        self.signedNames = signedNames
        self.bodyHash = bodyHash
        self.timestamp = timestamp
    }

    /// The bytes whose hash is signed (3.7): the selected fields canonicalised, then this field
    /// with an empty `b=`, canonicalised, without its final CRLF.
    public func signingInput(fields: [HeaderField], lineEnding: Message.LineEnding = .lf) -> [UInt8] {
        var input: [UInt8] = []
        for field in DKIMHeaderSelection.select(signedNames, from: fields) {
            input += canonicalization.header.header(field)
        }
        let own = canonicalization.header.header(field(signature: [], lineEnding: lineEnding))
        // On a slice: Sequence's dropLast copies byte by byte.
        input += own[...].dropLast(2)
        return input
    }

    /// The field with `signature` as `b=` (empty while hashing), folded: `b=` starts a line of
    /// its own, so the text before it is the same with and without the signature.
    public func field(signature: [UInt8], lineEnding: Message.LineEnding = .lf) -> HeaderField {
        // Built as bytes: it is made twice per signature (to hash, then to send).
        var tokens: [(text: String, glued: Bool)] = [
            ("v=1;", false), ("a=\(algorithm.rawValue);", false),
            ("c=\(canonicalization.header.rawValue)/\(canonicalization.body.rawValue);", false),
            ("d=\(domain);", false), ("s=\(selector);", false),
        ]
        if let timestamp { tokens.append(("t=\(timestamp);", false)) }
        for (index, name) in signedNames.enumerated() {
            let text = (index == 0 ? "h=" : "") + name + (index == signedNames.count - 1 ? ";" : ":")
            tokens.append((text, index > 0))
        }
        tokens.append(("bh=\(Base64.encode(bodyHash));", false))
        return Self.folded(Self.name, tokens: tokens, signature: signature, lineEnding: lineEnding)
    }

    /// A signature field (DKIM-Signature, ARC-Message-Signature, ARC-Seal): `tokens` folded to the
    /// line width (a `glued` one follows the last without a space), then `b=` with `signature` on a
    /// line of its own, so the text before it is the same with and without the signature.
    static func folded(
        _ name: String, tokens: [(text: String, glued: Bool)], signature: [UInt8], lineEnding: Message.LineEnding
    ) -> HeaderField {
        let fold = lineEnding.bytes + [9]
        let encoded = Array(Base64.encode(signature).utf8)
        var raw = Array((name + ":").utf8)
        raw.reserveCapacity(512 + encoded.count)
        var column = raw.count
        for token in tokens {
            let length = token.text.utf8.count
            if column + 1 + length > Self.width {
                raw += fold
                column = 1
            } else if !token.glued {
                raw.append(32)
                column += 1
            }
            raw += token.text.utf8
            column += length
        }
        raw += fold
        raw += [UInt8(ascii: "b"), UInt8(ascii: "=")]
        column = 3
        var start = 0
        while start < encoded.count {
            let room = Self.width - column
            if room < 8 {
                raw += fold
                column = 1
                continue
            }
            let end = min(start + room, encoded.count)
            raw += encoded[start..<end]
            column += end - start
            start = end
        }
        raw += lineEnding.bytes
        return HeaderField(name: name, raw: raw)
    }
}

extension String {
    /// ASCII letters lower-cased, as field names compare (`HeaderField.hasName`).
    fileprivate var asciiLowercased: String {
        String(decoding: utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
