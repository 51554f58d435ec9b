/// The header fields every message needs (RFC 5322 section 3.6), and header text a server
/// without SMTPUTF8 cannot carry.
enum HeaderChecks {
    static func check(_ message: Message) -> [LintFinding] {
        var findings: [LintFinding] = []
        let ids = message.values(of: "Message-ID")
        if ids.isEmpty {
            findings.append(
                LintFinding(
                    .error, "message-id", "no Message-ID field",
                    "Gmail refuses bulk mail without one; render adds it, set message_id_domain"))
        } else if ids.count > 1 {
            findings.append(
                LintFinding(.error, "message-id", "\(ids.count) Message-ID fields", "RFC 5322 allows one; keep one"))
        } else if !isWellFormed(messageID: ids[0]) {
            findings.append(
                LintFinding(
                    .error, "message-id", "Message-ID \"\(ids[0].escapingControls)\" is not <left@domain>",
                    "receivers count malformed IDs as spam signs; use <unique@your.domain>"))
        }
        let dates = message.values(of: "Date")
        if dates.isEmpty {
            findings.append(
                LintFinding(
                    .error, "date", "no Date field", "RFC 5322 requires it and receivers distrust mail without it"))
        } else if dates.count > 1 {
            findings.append(LintFinding(.error, "date", "\(dates.count) Date fields", "RFC 5322 allows one; keep one"))
        } else if MessageDate.parse(dates[0]) == nil {
            findings.append(
                LintFinding(
                    .error, "date", "Date \"\(dates[0].escapingControls)\" is not an RFC 5322 date",
                    "write it as Mon, 2 Dec 2026 09:00:00 +0000"))
        }
        let eightBit = message.fields.filter { $0.raw.contains { $0 >= 128 } }.map(\.name)
        if !eightBit.isEmpty {
            findings.append(
                LintFinding(
                    .warning, "8bit-header", "raw 8-bit text in \(eightBit.joined(separator: ", "))",
                    "only a path where every server offers SMTPUTF8 carries it; "
                        + "write non-ASCII text as RFC 2047 encoded words"))
        }
        return findings
    }

    /// `<left@right>` with no spaces inside, as RFC 5322 section 3.6.4 has it.
    static func isWellFormed(messageID: String) -> Bool {
        let text = messageID.trimmingSpaces
        guard text.hasPrefix("<"), text.hasSuffix(">"), let parts = MessageID.split(text) else { return false }
        let inner = parts.local + parts.domain
        return !inner.contains(where: { $0 == " " || $0 == "\t" || $0 == "<" || $0 == ">" || $0 == "\n" })
    }
}
