/// One method's result in an Authentication-Results field (RFC 8601 2.2, `resinfo`):
/// `method=result (comment) ptype.property=value ...`.
public struct AuthenticationResult: Sendable, Equatable {
    /// The method: `dkim`, `spf`, `dmarc`, `arc`, ...
    public var method: String
    /// The result: `pass`, `fail`, `none`, ...
    public var result: String
    /// A comment after the result, for people; empty for none.
    public var comment: String
    /// `ptype.property` and value pairs, in order (`header.d`, `smtp.mailfrom`, ...).
    public var properties: [(name: String, value: String)]

    /// A result from parts.
    public init(method: String, result: String, comment: String = "", properties: [(String, String)] = []) {
        self.method = method
        self.result = result
        self.comment = comment
        self.properties = properties.map { (name: $0.0, value: $0.1) }
    }

    /// The value of `name` (`header.d`), if present.
    public func property(_ name: String) -> String? {
        properties.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// `method=result (comment) name=value ...`, values quoted where a token cannot hold them.
    public var text: String {
        var text = "\(method)=\(result)"
        let comment = Self.commentText(comment)
        if !comment.isEmpty { text += " (\(comment))" }
        for (name, value) in properties { text += " \(name)=\(Self.quotedIfNeeded(value))" }
        return text
    }

    public static func == (lhs: AuthenticationResult, rhs: AuthenticationResult) -> Bool {
        lhs.method == rhs.method && lhs.result == rhs.result && lhs.comment == rhs.comment
            && lhs.properties.map(\.name) == rhs.properties.map(\.name)
            && lhs.properties.map(\.value) == rhs.properties.map(\.value)
    }

    /// Printable ASCII without the characters that would end or nest the comment.
    static func commentText(_ text: String) -> String {
        let kept = text.unicodeScalars.map { scalar -> Character in
            let value = scalar.value
            return value >= 32 && value < 127 && scalar != "(" && scalar != ")" && scalar != "\\"
                ? Character(scalar) : " "
        }
        return String(kept).split(separator: " ").joined(separator: " ")
    }

    /// A value as a token when it is one (domains, addresses, base64 without `/` or `=`), else quoted.
    static func quotedIfNeeded(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.utf8.allSatisfy {
                ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122)
                    || [UInt8(ascii: "."), UInt8(ascii: "@"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "+")]
                        .contains($0)
            }
        if plain { return value }
        let escaped = value.unicodeScalars.filter { $0.value >= 32 && $0.value < 127 }.map { scalar in
            scalar == "\"" || scalar == "\\" ? "\\\(scalar)" : String(scalar)
        }
        return "\"" + escaped.joined() + "\""
    }
}

/// Authentication-Results fields (RFC 8601): written from results, and read back, comments dropped.
public enum AuthenticationResults {
    /// The field's name.
    public static let fieldName = "Authentication-Results"

    /// The resinfo part of a field: results joined by `; `, or `none` when there are none.
    public static func text(_ results: [AuthenticationResult]) -> String {
        results.isEmpty ? "none" : results.map(\.text).joined(separator: "; ")
    }

    /// Reads a field's value: the authserv-id and the results (none for `ID; none`). nil when
    /// it is not an Authentication-Results value.
    public static func parse(_ value: String) -> (authservID: String, results: [AuthenticationResult])? {
        let parts = split(withoutComments(value))
        guard let first = parts.first else { return nil }
        // authserv-id [ CFWS authres-version ]
        guard let id = first.split(whereSeparator: { $0 == " " || $0 == "\t" }).first, !id.isEmpty else { return nil }
        let authservID = unquoted(String(id))
        var results: [AuthenticationResult] = []
        for part in parts.dropFirst() {
            let words = tokens(part)
            guard let head = words.first else { continue }
            if words.count == 1 && head.lowercased() == "none" { continue }
            guard let equals = head.firstIndex(of: "=") else { return nil }
            // `method/version`: the version is dropped.
            let method = head[..<equals].split(separator: "/").first.map(String.init) ?? ""
            let result = String(head[head.index(after: equals)...])
            guard !method.isEmpty, !result.isEmpty else { return nil }
            var properties: [(String, String)] = []
            for word in words.dropFirst() {
                guard let equals = word.firstIndex(of: "=") else { continue }
                properties.append(
                    (String(word[..<equals]), unquoted(String(word[word.index(after: equals)...]))))
            }
            results.append(
                AuthenticationResult(
                    method: method.lowercased(), result: result.lowercased(), properties: properties))
        }
        return (authservID, results)
    }

    /// `value` with every comment replaced by a space; quoted strings kept as written.
    static func withoutComments(_ value: String) -> String {
        var out = ""
        var depth = 0
        var quoted = false
        var escaped = false
        for character in value {
            if escaped {
                escaped = false
                if depth == 0 { out.append(character) }
                continue
            }
            switch character {
            case "\\":
                escaped = true
                if depth == 0 { out.append(character) }
            case "\"" where depth == 0:
                quoted.toggle()
                out.append(character)
            case "(" where !quoted:
                depth += 1
                if depth == 1 { out.append(" ") }
            case ")" where !quoted && depth > 0:
                depth -= 1
            case "\r", "\n":
                if depth == 0 { out.append(" ") }
            default:
                if depth == 0 { out.append(character) }
            }
        }
        return out
    }

    /// Splits at `;` outside quoted strings.
    private static func split(_ text: String) -> [String] {
        splitOutsideQuotes(text) { $0 == ";" }.map { String($0.drop { $0 == " " || $0 == "\t" }) }
    }

    /// The words of a resinfo, whitespace around `=` removed: `dkim = pass` is `dkim=pass`.
    private static func tokens(_ text: String) -> [String] {
        var words: [String] = []
        // Whether the last word is a name and `=` still waiting for its value.
        var awaitingValue = false
        for word in splitOutsideQuotes(text, { $0 == " " || $0 == "\t" }) where !word.isEmpty {
            if let last = words.last, awaitingValue || (word.hasPrefix("=") && !last.contains("=")) {
                words[words.count - 1] = last + word
            } else {
                words.append(word)
            }
            let current = words[words.count - 1]
            awaitingValue =
                current.hasSuffix("=") && current.firstIndex(of: "=") == current.index(before: current.endIndex)
        }
        return words
    }

    private static func splitOutsideQuotes(_ text: String, _ isSeparator: (Character) -> Bool) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if !quoted && isSeparator(character) {
                parts.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        parts.append(current)
        return parts
    }

    /// A quoted-string's content (quoted pairs undone), or the text as it is.
    private static func unquoted(_ text: String) -> String {
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        var out = ""
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if !escaped && character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            out.append(character)
        }
        return out
    }
}
