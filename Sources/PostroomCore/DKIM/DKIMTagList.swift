/// A DKIM tag list (RFC 6376 3.2): `tag=value` pairs separated by `;`, as in DKIM-Signature,
/// ARC fields and the public-key TXT record.
public struct DKIMTagList: Sendable, Equatable {
    /// The tags in order, values with their surrounding whitespace removed.
    public var tags: [(name: String, value: String)]

    /// A list of the given tags.
    public init(_ tags: [(name: String, value: String)]) {
        self.tags = tags
    }

    /// Parses `text`; nil when it is not a tag list (a tag without `=`, a bad tag name, a tag twice).
    public init?(parsing text: String) {
        var parsed: [(name: String, value: String)] = []
        let specs = text.split(separator: ";", omittingEmptySubsequences: false)
        for (index, spec) in specs.enumerated() {
            let trimmed = Self.trimmed(Substring(spec))
            // A trailing `;` is allowed.
            if trimmed.isEmpty && index == specs.count - 1 && index > 0 { break }
            guard let equals = trimmed.firstIndex(of: "=") else { return nil }
            let name = Self.trimmed(trimmed[..<equals])
            guard let first = name.unicodeScalars.first, Self.isAlpha(first),
                name.unicodeScalars.allSatisfy({ Self.isAlpha($0) || ("0"..."9").contains($0) || $0 == "_" }),
                !parsed.contains(where: { $0.name == name })
            else { return nil }
            parsed.append((String(name), String(Self.trimmed(trimmed[trimmed.index(after: equals)...]))))
        }
        tags = parsed
    }

    /// The value of tag `name`, if present.
    public subscript(name: String) -> String? {
        tags.first { $0.name == name }?.value
    }

    /// A value with every folding whitespace removed (base64 tags: b=, bh=, p=).
    public static func withoutWhitespace(_ value: String) -> String {
        String(value.unicodeScalars.filter { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" })
    }

    /// `tag=value; tag=value` on one line.
    public var text: String {
        tags.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    public static func == (lhs: DKIMTagList, rhs: DKIMTagList) -> Bool {
        lhs.tags.count == rhs.tags.count && zip(lhs.tags, rhs.tags).allSatisfy { $0 == $1 }
    }

    private static func isAlpha(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let space: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\n" || $0 == "\r" }
        guard let start = text.firstIndex(where: { !space($0) }), let end = text.lastIndex(where: { !space($0) })
        else { return "" }
        return text[start...end]
    }
}
