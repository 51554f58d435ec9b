/// A rule's pattern, compiled when a message first needs it.
///
/// route starts once per message and usually stops at an early rule, so it compiles only the
/// patterns it reaches; a pattern anchored on a literal (`^directors$`, `^S1234-`, `-staff$`)
/// that the address cannot start or end with, or one with a literal the address does not contain
/// (`^[a-z]+\.alumni\.`), is skipped without being compiled at all; and a
/// rule whose arguments use no group is compiled without them (`REG_NOSUB`, a third cheaper). A
/// pattern that does not compile fails the messages that reach it (route exits 75);
/// `route --check` compiles them all.
public final class RulePattern: @unchecked Sendable {
    /// The pattern as written.
    public let text: String
    /// The literal every match must start with, lowercased (empty when unknown).
    let requiredPrefix: [UInt8]
    /// The literal every match must end with, lowercased (empty when unknown).
    let requiredSuffix: [UInt8]
    /// A literal every match must contain somewhere, lowercased (empty when unknown).
    let requiredInfix: [UInt8]
    /// Whether a match's groups are wanted (the rule's arguments use `$N`).
    let capturing: Bool
    private var compiled: POSIXRegex?

    /// A pattern, not yet compiled. Without `capturing`, a match returns no groups.
    public init(_ text: String, capturing: Bool = true) {
        self.text = text
        self.capturing = capturing
        // Every table line on every start: one conversion, one scan for alternations.
        let bytes = Array(text.utf8)
        if Self.hasTopLevelAlternation(bytes) {
            (requiredPrefix, requiredSuffix, requiredInfix) = ([], [], [])
        } else {
            requiredPrefix = Self.requiredPrefix(bytes)
            requiredSuffix = Self.requiredSuffix(bytes)
            requiredInfix = Self.requiredInfix(bytes)
        }
    }

    /// Compiles the pattern now (for `--check`).
    public func compile() throws(PostroomError) -> POSIXRegex {
        if let compiled { return compiled }
        let regex = try POSIXRegex(text, capturing: capturing)
        compiled = regex
        return regex
    }

    /// The groups of a match of `subject` (none without `capturing`), or nil.
    public func match(_ subject: String) throws(PostroomError) -> [String]? {
        if !requiredPrefix.isEmpty || !requiredSuffix.isEmpty || !requiredInfix.isEmpty {
            let bytes = Array(subject.utf8)
            if !Self.has(requiredPrefix, in: bytes, at: 0) { return nil }
            if !Self.has(requiredSuffix, in: bytes, at: bytes.count - requiredSuffix.count) { return nil }
            if !requiredInfix.isEmpty
                && !(0...max(0, bytes.count - requiredInfix.count)).contains(where: {
                    Self.has(requiredInfix, in: bytes, at: $0)
                })
            {
                return nil
            }
        }
        return try compile().match(subject)
    }

    /// Whether `literal` (lowercase) is in `bytes` at `offset`, ignoring ASCII case; an empty one always is.
    private static func has(_ literal: [UInt8], in bytes: [UInt8], at offset: Int) -> Bool {
        guard !literal.isEmpty else { return true }
        guard offset >= 0, bytes.count - offset >= literal.count else { return false }
        for index in literal.indices where lower(bytes[offset + index]) != literal[index] { return false }
        return true
    }

    /// The longest run of literal characters outside groups and brackets (escaped punctuation
    /// included; less its last character when a quantifier that allows none follows), which any
    /// match must contain. Empty for a pattern with an alternation outside parentheses.
    static func requiredInfix(of pattern: String) -> [UInt8] {
        let bytes = Array(pattern.utf8)
        return hasTopLevelAlternation(bytes) ? [] : requiredInfix(bytes)
    }

    private static func requiredInfix(_ bytes: [UInt8]) -> [UInt8] {
        var longest: [UInt8] = []
        var run: [UInt8] = []
        var depth = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\\") {
                guard index < bytes.count else { return [] }
                let escaped = bytes[index]
                index += 1
                // `\.` is a dot; `\w`, `\b`, `\1`, `\<`, `\'` and the like are GNU operators.
                let isLiteral =
                    escaped < 128 && escaped > 32 && !isAlphanumeric(escaped)
                    && escaped != UInt8(ascii: "<") && escaped != UInt8(ascii: ">")
                    && escaped != UInt8(ascii: "`") && escaped != UInt8(ascii: "'")
                if depth == 0 && isLiteral { run.append(lower(escaped)) } else { end(&run, keepingLongest: &longest) }
                continue
            }
            if byte == UInt8(ascii: "[") {
                end(&run, keepingLongest: &longest)
                index = Self.end(ofBracketAt: index - 1, in: bytes)
                continue
            }
            switch byte {
            case UInt8(ascii: "("):
                end(&run, keepingLongest: &longest)
                depth += 1
            case UInt8(ascii: ")"):
                depth -= 1
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "{"):
                // The character before may be absent from a match.
                if depth == 0 && !run.isEmpty { run.removeLast() }
                end(&run, keepingLongest: &longest)
                if byte == UInt8(ascii: "{") {
                    while index < bytes.count && bytes[index] != UInt8(ascii: "}") { index += 1 }
                    index += 1
                }
            default:
                if depth == 0 && !isSpecial(byte) && byte < 128 {
                    run.append(lower(byte))
                } else {
                    end(&run, keepingLongest: &longest)
                }
            }
        }
        end(&run, keepingLongest: &longest)
        return longest
    }

    private static func end(_ run: inout [UInt8], keepingLongest longest: inout [UInt8]) {
        if run.count > longest.count { longest = run }
        run.removeAll()
    }

    /// The index just past the bracket expression that starts at `start` (`]` first is a member).
    private static func end(ofBracketAt start: Int, in bytes: [UInt8]) -> Int {
        var index = start + 1
        if index < bytes.count && bytes[index] == UInt8(ascii: "^") { index += 1 }
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") { index += 1 }
        while index < bytes.count {
            // `[:alpha:]`, `[.x.]` and `[=e=]` inside a bracket end with their own `]`.
            if bytes[index] == UInt8(ascii: "["), index + 1 < bytes.count,
                [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(bytes[index + 1])
            {
                let kind = bytes[index + 1]
                index += 2
                while index + 1 < bytes.count && !(bytes[index] == kind && bytes[index + 1] == UInt8(ascii: "]")) {
                    index += 1
                }
                index += 2
                continue
            }
            if bytes[index] == UInt8(ascii: "]") { return index + 1 }
            index += 1
        }
        return bytes.count
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    /// For `...abc$`: the literal bytes before the anchor back to the first special character (a
    /// quantifier right before the anchor, or an escaped `$`, gives none). Empty for a pattern with
    /// an alternation outside parentheses.
    static func requiredSuffix(of pattern: String) -> [UInt8] {
        let bytes = Array(pattern.utf8)
        return hasTopLevelAlternation(bytes) ? [] : requiredSuffix(bytes)
    }

    private static func requiredSuffix(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 2, bytes.last == UInt8(ascii: "$") else { return [] }
        var index = bytes.count - 2
        var suffix: [UInt8] = []
        while index >= 0, !isSpecial(bytes[index]), bytes[index] < 128 {
            suffix.append(lower(bytes[index]))
            index -= 1
        }
        // A backslash before the run escapes its first byte (or the anchor itself): give up.
        if index >= 0 && bytes[index] == UInt8(ascii: "\\") { return [] }
        // A character right after `{n,m}` or an interval's digits is literal, but `a{2}` is not
        // reachable here: `}` is special and ends the run before it.
        return suffix.reversed()
    }

    /// For `^abc...`: the literal bytes after the anchor up to the first special character, less
    /// one when a quantifier follows (it may repeat or drop that character). Empty for a pattern
    /// with an alternation outside parentheses, which could match without the prefix.
    static func requiredPrefix(of pattern: String) -> [UInt8] {
        let bytes = Array(pattern.utf8)
        return hasTopLevelAlternation(bytes) ? [] : requiredPrefix(bytes)
    }

    private static func requiredPrefix(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.first == UInt8(ascii: "^") else { return [] }
        var prefix: [UInt8] = []
        var index = 1
        while index < bytes.count, !isSpecial(bytes[index]), bytes[index] < 128 {
            prefix.append(lower(bytes[index]))
            index += 1
        }
        if index < bytes.count,
            bytes[index] == UInt8(ascii: "*") || bytes[index] == UInt8(ascii: "?") || bytes[index] == UInt8(ascii: "{"),
            !prefix.isEmpty
        {
            prefix.removeLast()
        }
        return prefix
    }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "\\"), UInt8(ascii: "^"), UInt8(ascii: "$"):
            true
        default: false
        }
    }

    private static func hasTopLevelAlternation(_ bytes: [UInt8]) -> Bool {
        var depth = 0
        var inBracket = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if inBracket {
                // `]` right after `[` or `[^` is a member, not the end.
                if byte == UInt8(ascii: "]") && bytes[index - 1] != UInt8(ascii: "[")
                    && !(bytes[index - 1] == UInt8(ascii: "^") && bytes[index - 2] == UInt8(ascii: "["))
                {
                    inBracket = false
                }
            } else if byte == UInt8(ascii: "[") {
                inBracket = true
            } else if byte == UInt8(ascii: "(") {
                depth += 1
            } else if byte == UInt8(ascii: ")") {
                depth -= 1
            } else if byte == UInt8(ascii: "|") && depth <= 0 {
                return true
            }
            index += 1
        }
        // Unbalanced: let the compiler judge it.
        return depth != 0 || inBracket
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}
