/// The public suffix list (publicsuffix.org; Debian's `publicsuffix` package), for DMARC's
/// organisational domain: the public suffix of a domain plus one more label.
///
/// `route` starts once per message and needs one or two answers, so the list is not parsed
/// up front: each question reads the file and keeps only the rules that end in the domain's
/// last label (a few hundred lines at most of the ~10,000). Both sections count (ICANN and
/// private, as OpenDMARC reads it), so `user.github.io` is its own organisational domain.
public struct PublicSuffixList: Sendable {
    private enum Source: Sendable {
        case file(String)
        case text([UInt8])
    }

    private let source: Source

    /// The list in a file (read on each question, not here).
    public init(path: String) { source = .file(path) }

    /// The list from text (tests).
    public init(text: String) { source = .text(Array(text.utf8)) }

    /// Where the list comes from, for messages.
    public var path: String? {
        if case .file(let path) = source { return path }
        return nil
    }

    /// The public suffix of `domain` (lower-cased, no trailing dot): `co.uk` for
    /// `mail.example.co.uk`. A domain no rule covers has its last label as its suffix.
    public func publicSuffix(of domain: String) throws(PostroomError) -> String {
        let labels = Self.labels(domain)
        guard let last = labels.last else { return "" }
        let rules = try self.rules(endingIn: last)
        return labels.suffix(Self.suffixLength(labels, rules: rules)).joined(separator: ".")
    }

    /// The organisational domain of `domain`: its public suffix and one label more, or nil
    /// when the domain is itself a public suffix (or empty).
    public func organizationalDomain(of domain: String) throws(PostroomError) -> String? {
        let labels = Self.labels(domain)
        guard let last = labels.last else { return nil }
        let length = Self.suffixLength(labels, rules: try rules(endingIn: last))
        guard labels.count > length else { return nil }
        return labels.suffix(length + 1).joined(separator: ".")
    }

    /// A rule: its labels (the leftmost may be `*`), and whether it is an exception (`!`).
    struct Rule: Equatable {
        var labels: [Substring]
        var exception: Bool

        /// Whether the rule matches the rightmost labels of `domain`.
        func matches(_ domain: [Substring]) -> Bool {
            guard labels.count <= domain.count else { return false }
            return zip(labels.reversed(), domain.reversed()).allSatisfy { rule, label in rule == "*" || rule == label }
        }
    }

    /// How many of `labels`, from the right, form the public suffix (publicsuffix.org's algorithm):
    /// an exception rule wins and counts one label less; else the matching rule with the most
    /// labels; else the implicit rule `*`.
    static func suffixLength(_ labels: [Substring], rules: [Rule]) -> Int {
        let matching = rules.filter { $0.matches(labels) }
        if let exception = matching.first(where: \.exception) { return exception.labels.count - 1 }
        return max(matching.map(\.labels.count).max() ?? 1, 1)
    }

    /// The rules whose last label is `last`, read from the list.
    func rules(endingIn last: Substring) throws(PostroomError) -> [Rule] {
        let bytes: [UInt8]
        switch source {
        case .text(let text): bytes = text
        case .file(let path):
            do {
                bytes = try FileSystem.readFile(path)
            } catch {
                throw .configuration(
                    location: path,
                    reason:
                        "cannot read the public suffix list (\(error.description)); install Debian's publicsuffix package or set public_suffix_list"
                )
            }
        }
        let tail = Array(last.utf8)
        var rules: [Rule] = []
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            // A rule is the line's first word; `//` starts a comment.
            var wordEnd = start
            while wordEnd < end && bytes[wordEnd] != 32 && bytes[wordEnd] != 9 && bytes[wordEnd] != 13 { wordEnd += 1 }
            let word = bytes[start..<wordEnd]
            if word.count >= tail.count, word.last == tail.last, !word.starts(with: [47, 47]),
                word.suffix(tail.count).elementsEqual(tail),
                word.count == tail.count || word[word.endIndex - tail.count - 1] == UInt8(ascii: ".")
                    || (word.count == tail.count + 1 && word.first == UInt8(ascii: "!"))
            {
                let text = String(decoding: word, as: UTF8.self).lowercased()
                let exception = text.hasPrefix("!")
                let labels = (exception ? text.dropFirst() : Substring(text)).split(
                    separator: ".", omittingEmptySubsequences: false)
                if !labels.contains(where: \.isEmpty) {
                    rules.append(Rule(labels: labels.map { Substring($0) }, exception: exception))
                }
            }
            start = end + 1
        }
        return rules
    }

    /// A domain's labels, lower-cased, without a trailing dot.
    static func labels(_ domain: String) -> [Substring] {
        var text = Substring(domain.lowercased())
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty else { return [] }
        return text.split(separator: ".", omittingEmptySubsequences: false)
    }
}
