/// One header field exactly as it appears in a message, folding and line endings included.
public struct HeaderField: Sendable, Equatable {
    /// The field name as written (compare with `hasName(_:)`, which ignores case).
    public let name: String
    /// Every byte of the field: `Name: value`, continuation lines and final line ending.
    public let raw: [UInt8]

    /// A field from its raw bytes, as the parser finds it.
    init(name: String, raw: [UInt8]) {
        self.name = name
        self.raw = raw
    }

    /// Whether this field is called `other`, ignoring ASCII case as RFC 5322 requires.
    public func hasName(_ other: String) -> Bool {
        Self.namesEqual(name, other)
    }

    /// The value unfolded: line breaks before whitespace removed, outer whitespace trimmed.
    ///
    /// Bytes that are not UTF-8 (8-bit legacy headers) are read as Latin-1.
    public var value: String {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return "" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count - colon)
        for byte in raw[(colon + 1)...] where byte != 13 && byte != 10 { bytes.append(byte) }
        let trimmed = bytes.drop { $0 == 32 || $0 == 9 }.reversed().drop { $0 == 32 || $0 == 9 }.reversed()
        return Self.text(Array(trimmed))
    }

    /// The value with RFC 2047 encoded words decoded.
    public var decodedValue: String { EncodedWord.decode(value) }

    /// Decodes header bytes as UTF-8, or as Latin-1 when they are not valid UTF-8.
    static func text(_ bytes: [UInt8]) -> String {
        if let utf8 = String(validating: bytes, as: UTF8.self) { return utf8 }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    /// Case-insensitive ASCII comparison of field names.
    static func namesEqual(_ a: String, _ b: String) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        return zip(x, y).allSatisfy { lower($0) == lower($1) }
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}
