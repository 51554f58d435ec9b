/// One-click unsubscribe (RFC 8058), which Gmail and Yahoo require of bulk mail since 2024:
/// List-Unsubscribe with an https URI, and List-Unsubscribe-Post: List-Unsubscribe=One-Click.
enum UnsubscribeCheck {
    static func check(_ message: Message) -> [LintFinding] {
        let lists = message.values(of: "List-Unsubscribe")
        guard let list = lists.first else {
            return [
                LintFinding(
                    .error, "unsubscribe", "no List-Unsubscribe field",
                    "bulk mail needs one-click unsubscribe: set unsubscribe_url (and unsubscribe_key_file) "
                        + "so render adds List-Unsubscribe and List-Unsubscribe-Post")
            ]
        }
        var findings: [LintFinding] = []
        if lists.count > 1 {
            findings.append(
                LintFinding(.error, "unsubscribe", "\(lists.count) List-Unsubscribe fields", "RFC 2369 allows one"))
        }
        let uris = uris(in: list)
        if uris.isEmpty {
            findings.append(
                LintFinding(
                    .error, "unsubscribe", "List-Unsubscribe \"\(list.escapingControls)\" holds no <URI>",
                    "write each URI in angle brackets: <https://example.org/unsubscribe/TOKEN>"))
        } else if !uris.contains(where: { $0.lowercased().hasPrefix("https://") }) {
            findings.append(
                LintFinding(
                    .error, "unsubscribe", "List-Unsubscribe has no https URI (\(uris.joined(separator: ", ")))",
                    "one-click unsubscribe (RFC 8058) POSTs to an https URI: set unsubscribe_url to one"))
        }
        let posts = message.values(of: "List-Unsubscribe-Post")
        if posts.isEmpty {
            findings.append(
                LintFinding(
                    .error, "unsubscribe", "no List-Unsubscribe-Post field",
                    "one-click unsubscribe needs List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
        } else if posts.count > 1 || posts[0].trimmingSpaces != "List-Unsubscribe=One-Click" {
            findings.append(
                LintFinding(
                    .error, "unsubscribe",
                    "List-Unsubscribe-Post is \"\(posts.joined(separator: "\", \"").escapingControls)\"",
                    "RFC 8058 requires exactly List-Unsubscribe=One-Click"))
        }
        return findings
    }

    /// The `<…>` URIs of a List-Unsubscribe value, folding whitespace removed.
    static func uris(in value: String) -> [String] {
        var found: [String] = []
        var current: String?
        for character in value {
            switch character {
            case "<": current = ""
            case ">":
                if let uri = current, !uri.isEmpty { found.append(uri) }
                current = nil
            default:
                if !character.isWhitespace { current?.append(character) }
            }
        }
        return found
    }
}
