/// A rule's pattern, compiled when a message first needs it.
///
/// route starts once per message and usually stops at an early rule, so it compiles only the
/// patterns it reaches; a pattern anchored on a literal (`^directors$`, `^S1234-`, `-staff$`)
/// that the address cannot start or end with is skipped without being compiled at all; and a
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
    /// Whether a match's groups are wanted (the rule's arguments use `$N`).
    let capturing: Bool
    private var compiled: POSIXRegex?

    /// A pattern, not yet compiled. Without `capturing`, a match returns no groups.
    public init(_ text: String, capturing: Bool = true) {
        self.text = text
        self.capturing = capturing
        requiredPrefix = Self.requiredPrefix(of: text)
        requiredSuffix = Self.requiredSuffix(of: text)
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
        if !requiredPrefix.isEmpty {
            let start = subject.utf8.prefix(requiredPrefix.count).map(Self.lower)
            if start.count < requiredPrefix.count || !start.elementsEqual(requiredPrefix) { return nil }
        }
        if !requiredSuffix.isEmpty {
            let end = subject.utf8.suffix(requiredSuffix.count).map(Self.lower)
            if end.count < requiredSuffix.count || !end.elementsEqual(requiredSuffix) { return nil }
        }
        return try compile().match(subject)
    }

    /// For `...abc$`: the literal bytes before the anchor back to the first special character (a
    /// quantifier right before the anchor, or an escaped `$`, gives none). Empty for a pattern with
    /// an alternation outside parentheses.
    static func requiredSuffix(of pattern: String) -> [UInt8] {
        let bytes = Array(pattern.utf8)
        guard bytes.count >= 2, bytes.last == UInt8(ascii: "$"), !hasTopLevelAlternation(bytes) else { return [] }
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
        guard bytes.first == UInt8(ascii: "^"), !hasTopLevelAlternation(bytes) else { return [] }
        var prefix: [UInt8] = []
        var index = 1
        while index < bytes.count, !isSpecial(bytes[index]), bytes[index] < 128 {
            prefix.append(lower(bytes[index]))
            index += 1
        }
        if index < bytes.count, [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "{")].contains(bytes[index]),
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
