/// RFC 5322 section 2.1.1: no line longer than 998 octets, line ending aside. Servers break or
/// refuse longer lines, which changes the message and breaks its DKIM signature.
enum LineLengthCheck {
    static let limit = 998

    /// One finding naming the first long line and how many there are.
    static func check(_ bytes: [UInt8]) -> [LintFinding] {
        var line = 1
        var start = 0
        var first: (line: Int, length: Int)?
        var count = 0
        for index in bytes.indices where bytes[index] == 10 || index == bytes.count - 1 {
            var end = bytes[index] == 10 ? index : index + 1
            if end > start && bytes[end - 1] == 13 { end -= 1 }
            if end - start > limit {
                count += 1
                if first == nil { first = (line, end - start) }
            }
            line += 1
            start = index + 1
        }
        guard let first else { return [] }
        let more = count > 1 ? " and \(count - 1) more" : ""
        return [
            LintFinding(
                .error, "line-length", "line \(first.line) is \(first.length) octets long\(more)",
                "RFC 5322 allows 998; servers fold or refuse longer lines and the signature breaks: "
                    + "encode the part as quoted-printable or base64, fold long header fields")
        ]
    }
}
