/// `route`'s rule table: one rule per line, `PATTERN HANDLER [ARGUMENT...]`, tried in order.
///
/// A pattern without `@` matches the local part, one with `@` the whole address (POSIX
/// extended syntax, case-insensitive). Arguments may use the pattern's groups (`$1`..`$9`,
/// `$0` for the whole match, `$$` for a dollar sign); `key=value` arguments are options. A rule
/// whose groups contain `/` or are `.` or `..` does not match, so an address cannot name a file
/// outside the directories the table names.
/// A double-quoted argument may hold spaces (`reject "no such list"`), with `\"` and `\\`.
/// The table is read once per process and each pattern compiled when first needed (see
/// `RulePattern`); every problem is reported with its line.
public struct RuleTable: Sendable {
    /// One rule.
    public struct Rule: Sendable {
        /// The line in the table.
        public let line: Int
        /// The pattern.
        public let pattern: RulePattern
        /// Whether the pattern is matched against the whole address (it contains `@`).
        public let matchesWholeAddress: Bool
        /// The handler's type.
        public let handler: any RouteHandler.Type
        /// The arguments as written (captures not yet substituted).
        public let arguments: RuleArguments

        /// The arguments with this match's groups substituted, or nil when the rule does not match.
        /// Throws when the pattern does not compile.
        public func match(_ address: String) throws(PostroomError) -> RuleArguments? {
            try match(address, localPart: IncomingMessage.split(address).local)
        }

        func match(_ address: String, localPart: String) throws(PostroomError) -> RuleArguments? {
            let subject = matchesWholeAddress ? address : localPart
            let groups: [String]?
            do {
                groups = try pattern.match(subject)
            } catch {
                throw .configuration(
                    location: "rule table line \(line)", reason: "the pattern does not compile: \(error.reason)")
            }
            guard let groups else { return nil }
            // A group goes into file names (`lists/$1`): one that could leave the directory
            // (`../x`, `a/b`) makes the rule not match rather than name another file.
            if groups.dropFirst().contains(where: {
                $0.contains("/") || $0 == "." || $0 == ".." || $0.contains("\u{0}")
            }) {
                return nil
            }
            var substituted = arguments
            substituted.positional = arguments.positional.map { Self.substitute($0, groups) }
            substituted.options = arguments.options.mapValues { Self.substitute($0, groups) }
            return substituted
        }

        /// `$N` replaced by group N, `$$` by `$`.
        static func substitute(_ text: String, _ groups: [String]) -> String {
            guard RuleTable.has(UInt8(ascii: "$"), in: text) else { return text }
            var out = ""
            var characters = text.makeIterator()
            while let character = characters.next() {
                guard character == "$" else {
                    out.append(character)
                    continue
                }
                guard let next = characters.next() else {
                    out.append("$")
                    break
                }
                if next == "$" {
                    out.append("$")
                } else if let digit = next.wholeNumberValue, next.isASCII {
                    out += digit < groups.count ? groups[digit] : ""
                } else {
                    out.append("$")
                    out.append(next)
                }
            }
            return out
        }
    }

    /// The rules in file order.
    public let rules: [Rule]
    /// Where the table was read from.
    public let path: String

    /// The handlers a table may name.
    public static let handlers: [any RouteHandler.Type] = RouteHandlers.all

    /// Reads and compiles the table; throws `.configuration` listing every problem with its line.
    public init(path: String, context: RouteContext) throws(PostroomError) {
        let text: [UInt8]
        do {
            text = try FileSystem.readFile(path)
        } catch {
            throw .configuration(location: path, reason: "cannot read the rule table: \(error.description)")
        }
        let (rules, problems) = Self.compile(text, path: path, context: context, checkFiles: false)
        guard problems.isEmpty else {
            throw .configuration(location: path, reason: problems.joined(separator: "; "))
        }
        self.rules = rules
        self.path = path
    }

    /// Every problem in a table, each with its line (`route --check`): syntax, patterns, handlers,
    /// arguments, and what each handler checks (files that must exist).
    public static func check(path: String, context: RouteContext) -> [String] {
        let text: [UInt8]
        do {
            text = try FileSystem.readFile(path)
        } catch {
            return ["\(path): cannot read the rule table: \(error.description)"]
        }
        return compile(text, path: path, context: context, checkFiles: true).problems
    }

    static func compile(
        _ text: [UInt8], path: String, context: RouteContext, checkFiles: Bool
    ) -> (
        rules: [Rule], problems: [String]
    ) {
        var rules: [Rule] = []
        var problems: [String] = []
        let directory = Self.directory(of: path)
        var lineNumber = 0
        for rawLine in text.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            // Built only for a problem: route reads every line on every start.
            var location: String { "\(path) line \(lineNumber)" }
            let words: [String]
            do {
                words = try Self.words(rawLine)
            } catch {
                problems.append("\(location): \(error)")
                continue
            }
            if words.isEmpty { continue }
            guard words.count >= 2 else {
                problems.append("\(location): a rule is PATTERN HANDLER [ARGUMENT...]; found only \"\(words[0])\"")
                continue
            }
            // Groups are needed only when an argument uses one (`$1`, `$0`).
            let capturing = words.dropFirst(2).contains { Self.has(UInt8(ascii: "$"), in: $0) }
            let pattern = RulePattern(words[0], capturing: capturing)
            if checkFiles {
                do {
                    let groups = try pattern.compile().groupCount
                    // At routing time a group the pattern does not have is empty: lists/$1-$3 would name lists/S1-.
                    let named = words.dropFirst(2).flatMap(Self.groupReferences(in:)).filter { $0 > groups }
                    if let first = named.min() {
                        problems.append(
                            "\(location): $\(first) names no group of the pattern, which has \(groups)")
                    }
                } catch {
                    problems.append("\(location): the pattern does not compile: \(error.reason)")
                    continue
                }
            }
            guard let handler = handlers.first(where: { $0.name == words[1] }) else {
                let names = handlers.map { $0.name }.joined(separator: ", ")
                problems.append("\(location): unknown handler \"\(words[1])\"; known handlers: \(names)")
                continue
            }
            var positional: [String] = []
            var options: [String: String] = [:]
            var ruleProblems: [String] = []
            for word in words.dropFirst(2) {
                if Self.has(UInt8(ascii: "="), in: word), let equals = word.firstIndex(of: "="), !word.hasPrefix("\""),
                    Self.isOptionName(word[..<equals])
                {
                    let key = String(word[..<equals])
                    guard handler.optionNames.contains(key) else {
                        let known = handler.optionNames.sorted().joined(separator: ", ")
                        ruleProblems.append(
                            "\(location): \(handler.name) has no option \"\(key)\""
                                + (known.isEmpty ? "" : "; its options: \(known)"))
                        continue
                    }
                    guard options[key] == nil else {
                        ruleProblems.append("\(location): option \"\(key)\" is given twice")
                        continue
                    }
                    options[key] = String(word[word.index(after: equals)...])
                } else {
                    positional.append(word)
                }
            }
            if !handler.argumentCount.contains(positional.count) {
                let range = handler.argumentCount
                let expected =
                    range.upperBound == Int.max
                    ? "at least \(range.lowerBound)"
                    : range.lowerBound == range.upperBound
                        ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
                ruleProblems.append(
                    "\(location): \(handler.name) takes \(expected) argument(s), found \(positional.count)")
            }
            let arguments = RuleArguments(
                positional: positional, options: options, line: lineNumber, directory: directory)
            if ruleProblems.isEmpty && checkFiles {
                ruleProblems += handler.check(arguments, context: context).map {
                    "\(location): \(Self.withoutRuleLocation($0, line: lineNumber))"
                }
            }
            problems += ruleProblems
            if ruleProblems.isEmpty {
                rules.append(
                    Rule(
                        line: lineNumber, pattern: pattern,
                        matchesWholeAddress: Self.has(UInt8(ascii: "@"), in: words[0]),
                        handler: handler, arguments: arguments))
            }
        }
        return (rules, problems)
    }

    /// The group numbers `$N` in `word` names (`$$` is a dollar sign), as `substitute` reads them.
    static func groupReferences(in word: String) -> [Int] {
        var numbers: [Int] = []
        var characters = word.makeIterator()
        while let character = characters.next() {
            guard character == "$", let next = characters.next() else { continue }
            if next.isASCII, let digit = next.wholeNumberValue { numbers.append(digit) }
        }
        return numbers
    }

    /// A handler's problem without the location it names when it fails at routing time (the
    /// check's own location says it already).
    static func withoutRuleLocation(_ problem: String, line: Int) -> String {
        var text = Substring(problem)
        for prefix in ["configuration error: ", "rule table line \(line): "] where text.hasPrefix(prefix) {
            text = text.dropFirst(prefix.count)
        }
        return String(text)
    }

    /// The first rule whose pattern matches, with its arguments substituted; `after` skips rules up to it.
    public func firstMatch(
        _ address: String, after index: Int = -1
    ) throws(PostroomError) -> (
        index: Int, arguments: RuleArguments
    )? {
        var position = index + 1
        let localPart = IncomingMessage.split(address).local
        while position < rules.count {
            if let arguments = try rules[position].match(address, localPart: localPart) { return (position, arguments) }
            position += 1
        }
        return nil
    }

    /// Whether `text` holds `byte`: a scan of its contiguous UTF-8, several times faster than
    /// iterating its `utf8` view, for the few checks made on every word of the table.
    static func has(_ byte: UInt8, in text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.contains(byte) } ?? text.utf8.contains(byte)
    }

    private static func isOptionName(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0 == "_" || $0 == "-" || ($0.isASCII && $0.isLetter) }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Splits a line into words: whitespace separates, `#` starts a comment outside quotes,
    /// double quotes group (with `\"` and `\\` inside). Works on bytes: route does this for
    /// every line of the table on every start.
    static func words(_ line: ArraySlice<UInt8>) throws(RuleSyntaxError) -> [String] {
        var words: [String] = []
        var index = line.startIndex
        let end = line.endIndex
        while index < end {
            let byte = line[index]
            if byte == 32 || byte == 9 || byte == 13 {
                index += 1
                continue
            }
            if byte == UInt8(ascii: "#") { break }
            // Most words have no quotes: taken from the line as they are, without a copy.
            let start = index
            while index < end, !Self.endsPlainWord(line[index]) { index += 1 }
            if index == end || line[index] != UInt8(ascii: "\"") {
                words.append(String(decoding: line[start..<index], as: UTF8.self))
                continue
            }
            var current = Array(line[start..<index])
            var quoted = false
            while index < end {
                let byte = line[index]
                index += 1
                if quoted {
                    if byte == UInt8(ascii: "\\") && index < end {
                        current.append(line[index])
                        index += 1
                    } else if byte == UInt8(ascii: "\"") {
                        quoted = false
                    } else if byte == UInt8(ascii: "\\") {
                        throw RuleSyntaxError(description: "a double quote is not closed")
                    } else {
                        current.append(byte)
                    }
                } else if byte == UInt8(ascii: "\"") {
                    quoted = true
                } else if byte == 32 || byte == 9 || byte == 13 {
                    break
                } else {
                    current.append(byte)
                }
            }
            if quoted { throw RuleSyntaxError(description: "a double quote is not closed") }
            words.append(String(decoding: current, as: UTF8.self))
        }
        return words
    }

    /// `words` of a whole buffer.
    static func words(_ line: [UInt8]) throws(RuleSyntaxError) -> [String] { try words(line[...]) }

    /// Whether `byte` ends an unquoted run: white space, or a quote that starts quoting.
    private static func endsPlainWord(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 9 || byte == 13 || byte == UInt8(ascii: "\"")
    }
}

/// A line of the rule table that cannot be split into words.
public struct RuleSyntaxError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let description: String
}

extension PostroomError {
    /// The reason alone, without the location (for messages that give their own).
    var reason: String {
        if case .malformed(_, _, let reason) = self { return reason }
        return description
    }
}
