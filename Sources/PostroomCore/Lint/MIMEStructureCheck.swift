/// MIME structure (RFC 2045, RFC 2046): multipart boundaries present and closed, parts that
/// parse, and each Content-Transfer-Encoding true to the bytes it labels. Receivers treat
/// broken structure as a spam sign, and a server that re-encodes a mislabelled part breaks
/// the DKIM body hash.
enum MIMEStructureCheck {
    static let maximumDepth = 20

    static func check(_ message: Message) -> [LintFinding] {
        var findings: [LintFinding] = []
        let isMIME = message.contains("Content-Type") || message.contains("Content-Transfer-Encoding")
        if isMIME && !message.contains("MIME-Version") {
            findings.append(
                LintFinding(
                    .warning, "mime", "Content-Type without MIME-Version",
                    "RFC 2045 needs MIME-Version: 1.0 for the Content- fields to count"))
        }
        walk(message, label: "the message", depth: 0, into: &findings)
        return findings
    }

    private static func walk(_ entity: Message, label: String, depth: Int, into findings: inout [LintFinding]) {
        func error(_ what: String, _ why: String) {
            findings.append(LintFinding(.error, "mime", "\(label): \(what)", why))
        }
        let type = entity.value(of: "Content-Type").map(MediaType.init(parsing:)) ?? .textPlain
        let encodingName = entity.value(of: "Content-Transfer-Encoding")?.trimmingSpaces.lowercased() ?? "7bit"
        guard let encoding = TransferEncoding(rawValue: encodingName) else {
            return error(
                "unknown Content-Transfer-Encoding \"\(encodingName.escapingControls)\"",
                "use 7bit, 8bit, quoted-printable or base64")
        }
        if type.isMultipart || type.type == "message" {
            if ![.sevenBit, .eightBit, .binary].contains(encoding) {
                error(
                    "\(type.value) is encoded as \(encoding.rawValue)",
                    "RFC 2045 section 6.4 allows only 7bit, 8bit or binary on composite types")
            }
        }
        guard type.isMultipart else {
            if type.type != "message" { checkLeaf(entity, type: type, encoding: encoding, label: label, &findings) }
            return
        }
        guard depth < maximumDepth else {
            return error("multipart parts nested more than \(maximumDepth) deep", "flatten the structure")
        }
        guard let boundary = type[parameter: "boundary"], !boundary.isEmpty else {
            return error("\(type.value) has no boundary parameter", "the parts cannot be found without one")
        }
        if boundary.utf8.count > 70 {
            error("the boundary is \(boundary.utf8.count) characters long", "RFC 2046 allows 1 to 70")
        }
        let (parts, isClosed) = MIMEParts.scan(entity.body, boundary: boundary)
        guard !parts.isEmpty else {
            return error("no --\(boundary) line in the body", "a multipart body needs its parts between boundary lines")
        }
        if !isClosed {
            error("no closing --\(boundary)-- line", "a truncated multipart body; readers may drop the last part")
        }
        for (index, chunk) in parts.enumerated() {
            let partLabel = depth == 0 ? "part \(index + 1)" : "\(label).\(index + 1)"
            do throws(PostroomError) {
                let part = try MessageParser.parse(chunk, isBodyPart: true)
                walk(part, label: partLabel, depth: depth + 1, into: &findings)
            } catch {
                findings.append(
                    LintFinding(.error, "mime", "\(partLabel) cannot be parsed: \(error.description)", "fix its header")
                )
            }
        }
    }

    private static func checkLeaf(
        _ entity: Message, type: MediaType, encoding: TransferEncoding, label: String,
        _ findings: inout [LintFinding]
    ) {
        let hasEightBit = entity.body.contains { $0 >= 128 }
        switch encoding {
        case .sevenBit where hasEightBit:
            findings.append(
                LintFinding(
                    .error, "mime", "\(label) is labelled 7bit but holds 8-bit bytes",
                    "encode it as quoted-printable or base64 (render does), or label it 8bit"))
        case .quotedPrintable where hasEightBit:
            findings.append(
                LintFinding(
                    .error, "mime", "\(label) is labelled quoted-printable but holds raw 8-bit bytes",
                    "quoted-printable writes them as =XX"))
        case .base64 where Base64.decode(entity.body) == nil:
            findings.append(
                LintFinding(
                    .error, "mime", "\(label) is labelled base64 but is not valid base64",
                    "receivers show it as garbage or an empty part"))
        case .binary:
            findings.append(
                LintFinding(
                    .warning, "mime", "\(label) is labelled binary",
                    "only servers offering BINARYMIME take it; use base64"))
        default:
            break
        }
        let decoded = encoding.decode(entity.body)
        if type.type == "text", type[parameter: "charset"] == nil, decoded.contains(where: { $0 >= 128 }) {
            findings.append(
                LintFinding(
                    .warning, "mime", "\(label) holds non-ASCII text without a charset",
                    "readers assume US-ASCII and show garbage: add charset=utf-8"))
        }
    }
}
