/// What a signature already in a message covers, read from its own tags: the verifier's
/// side of `DKIMSignatureField` (and how the tests check the signer against published vectors).
public struct DKIMSignedData: Sendable {
    /// The signature's tags.
    public let tags: DKIMTagList
    /// Header and body canonicalisation from `c=` (simple when absent, RFC 6376 3.5).
    public let canonicalization: (header: DKIMCanonicalization, body: DKIMCanonicalization)
    /// The signed field names from `h=`.
    public let signedNames: [String]
    /// The field with its `b=` value removed.
    public let unsignedField: HeaderField

    /// Reads `field`; nil when it is not a usable DKIM-Signature (no tag list, no `h=` or `b=`,
    /// an unknown canonicalisation).
    public init?(_ field: HeaderField) {
        guard let tags = DKIMTagList(parsing: field.value), let names = tags["h"], tags["b"] != nil else { return nil }
        let modes = (tags["c"] ?? "simple").split(separator: "/", omittingEmptySubsequences: false)
        guard modes.count <= 2, let header = DKIMCanonicalization(rawValue: String(modes[0])),
            let body = DKIMCanonicalization(rawValue: modes.count == 2 ? String(modes[1]) : "simple"),
            let unsigned = Self.removingSignature(from: field.raw)
        else { return nil }
        self.tags = tags
        canonicalization = (header, body)
        signedNames = names.split(separator: ":").map { String($0.filter { !" \t\r\n".contains($0) }) }
        unsignedField = HeaderField(name: field.name, raw: unsigned)
    }

    /// The bytes the signature signs (RFC 6376 3.7), from the message's `fields`.
    public func signingInput(fields: [HeaderField]) -> [UInt8] {
        var input: [UInt8] = []
        for field in DKIMHeaderSelection.select(signedNames, from: fields) {
            input += canonicalization.header.header(field)
        }
        input += canonicalization.header.header(unsignedField)[...].dropLast(2)
        return input
    }

    /// `raw` with the value of its `b=` tag, and the whitespace around it, removed (3.5).
    static func removingSignature(from raw: [UInt8]) -> [UInt8]? {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let isSpace: (UInt8) -> Bool = { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 }
        var start = colon + 1
        while start < raw.count {
            let end = raw[start...].firstIndex(of: UInt8(ascii: ";")) ?? raw.count
            var name = start
            while name < end, isSpace(raw[name]) { name += 1 }
            var equals = name + 1
            while equals < end, isSpace(raw[equals]) { equals += 1 }
            if name < end, raw[name] == UInt8(ascii: "b"), equals < end, raw[equals] == UInt8(ascii: "=") {
                // The field's own line ending stays.
                var stop = end
                if stop == raw.count {
                    while stop > equals + 1, raw[stop - 1] == 10 || raw[stop - 1] == 13 { stop -= 1 }
                }
                return Array(raw[...equals]) + raw[stop...]
            }
            start = end + 1
        }
        return nil
    }
}
