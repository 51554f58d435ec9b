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
        names.flatMap { name in
            Array(repeating: name, count: fields.count(where: { $0.hasName(name) }) + 1)
        }
    }

    /// The fields that `h=` names pick, in `h=` order: each name takes the last instance not
    /// yet taken (5.4.2); a name with none left picks nothing.
    public static func select(_ names: [String], from fields: [HeaderField]) -> [HeaderField] {
        var taken = Set<Int>()
        var selected: [HeaderField] = []
        for name in names {
            guard let index = fields.indices.last(where: { !taken.contains($0) && fields[$0].hasName(name) }) else {
                continue
            }
            taken.insert(index)
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
        input += canonicalization.header.header(field(signature: [], lineEnding: lineEnding)).dropLast(2)
        return input
    }

    /// The field with `signature` as `b=` (empty while hashing), folded: `b=` starts a line of
    /// its own, so the text before it is the same with and without the signature.
    public func field(signature: [UInt8], lineEnding: Message.LineEnding = .lf) -> HeaderField {
        let fold = String(decoding: lineEnding.bytes, as: UTF8.self) + "\t"
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
        var text = Self.name + ":"
        var column = text.utf8.count
        for token in tokens {
            let length = token.text.utf8.count
            if column + 1 + length > Self.width {
                text += fold
                column = 1
            } else if !token.glued {
                text += " "
                column += 1
            }
            text += token.text
            column += length
        }
        text += fold + "b="
        column = 3
        var rest = Substring(Base64.encode(signature))
        while !rest.isEmpty {
            let room = Self.width - column
            if room < 8 {
                text += fold
                column = 1
                continue
            }
            text += rest.prefix(room)
            column += min(room, rest.count)
            rest = rest.dropFirst(room)
        }
        return HeaderField(name: Self.name, raw: Array((text + String(decoding: lineEnding.bytes, as: UTF8.self)).utf8))
    }
}
