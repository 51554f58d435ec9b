import Glibc

/// The public suffix list (publicsuffix.org; Debian's `publicsuffix` package), for DMARC's
/// organisational domain: the public suffix of a domain plus one more label.
///
/// `route` starts once per message and needs one or two answers, so the list is not parsed
/// up front: each question reads the file and keeps only the few rules that could match the
/// domain (a suffix of it at a label boundary, of the ~10,000). Both sections count (ICANN and
/// private, as OpenDMARC reads it), so `user.github.io` is its own organisational domain.
public struct PublicSuffixList: Sendable {
    private enum Source: Sendable {
        case file(String)
        case text([UInt8])
    }

    private let source: Source

    /// The list in a file (read on each question, not here).
    public init(path: String) { source = .file(path) }

    /// The list the `public_suffix_list` key names (Debian's by default), which must exist; it
    /// is read later, when a question needs it.
    public static func configured(_ configuration: Configuration) throws(PostroomError) -> PublicSuffixList {
        let path = configuration.value(Configuration.publicSuffixList) ?? ""
        guard FileSystem.exists(path) else {
            throw .configuration(
                location: Configuration.publicSuffixList.name,
                reason:
                    "the public suffix list \(path) does not exist; install Debian's publicsuffix package or set public_suffix_list"
            )
        }
        return PublicSuffixList(path: path)
    }

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
        guard !labels.isEmpty else { return "" }
        let rules = try self.rules(matching: labels)
        return labels.suffix(Self.suffixLength(labels, rules: rules)).joined(separator: ".")
    }

    /// The organisational domain of `domain`: its public suffix and one label more, or nil
    /// when the domain is itself a public suffix (or empty).
    public func organizationalDomain(of domain: String) throws(PostroomError) -> String? {
        let labels = Self.labels(domain)
        guard !labels.isEmpty else { return nil }
        let length = Self.suffixLength(labels, rules: try rules(matching: labels))
        guard labels.count > length else { return nil }
        return labels.suffix(length + 1).joined(separator: ".")
    }

    /// Whether `first` and `second` align as DMARC's relaxed mode has it (RFC 7489 3.1.1): the
    /// same domain, or the same organisational domain. So `d=mail.example.net` aligns with
    /// `example.net` and the other way round; a public suffix (`github.io`) aligns with nothing
    /// but itself, and `a.github.io` not with `b.github.io`.
    public func relaxedlyAligned(_ first: String, _ second: String) throws(PostroomError) -> Bool {
        let (left, right) = (Self.labels(first), Self.labels(second))
        guard !left.isEmpty, !right.isEmpty else { return false }
        if left == right { return true }
        guard let organizational = try organizationalDomain(of: first) else { return false }
        return try organizationalDomain(of: second) == organizational
    }

    /// Why a DKIM key for `domain` would sign nothing a receiver aligns with From, or nil: a
    /// public suffix (`org`, `co.uk`) is no organisational domain, so DMARC aligns no From
    /// domain with it. Nil too when the list cannot be read: signing does not need it.
    public func signingDomainProblem(_ domain: String) -> String? {
        do throws(PostroomError) {
            if try organizationalDomain(of: domain) != nil { return nil }
        } catch {
            return nil
        }
        return "\(domain) is a public suffix (\(path ?? "public suffix list")): DMARC aligns no From domain "
            + "with a signature by it; use your own domain, such as school.\(domain)"
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

    /// The rules that may match `labels` (a superset: `Rule.matches` decides), read from the list.
    func rules(matching labels: [Substring]) throws(PostroomError) -> [Rule] {
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
        let domain = Array(labels.joined(separator: ".").utf8)
        let ranges = bytes.withUnsafeBufferPointer { Self.ruleRanges(in: $0, matching: domain) }
        var rules: [Rule] = []
        for range in ranges {
            let text = String(decoding: bytes[range], as: UTF8.self).lowercased()
            let exception = text.hasPrefix("!")
            let labels = (exception ? text.dropFirst() : Substring(text)).split(
                separator: ".", omittingEmptySubsequences: false)
            if !labels.contains(where: \.isEmpty) {
                rules.append(Rule(labels: labels.map { Substring($0) }, exception: exception))
            }
        }
        return rules
    }

    /// Where the rules that may match `domain` are: memchr and raw pointers, since there are
    /// ~10,000 lines and most are rejected by their last byte.
    private static func ruleRanges(in buffer: UnsafeBufferPointer<UInt8>, matching domain: [UInt8]) -> [Range<Int>] {
        guard let base = buffer.baseAddress, let lastByte = domain.last else { return [] }
        var ranges: [Range<Int>] = []
        var start = 0
        while start < buffer.count {
            var end = buffer.count
            if let newline = memchr(base + start, 10, buffer.count - start) {
                end = UnsafeRawPointer(newline) - UnsafeRawPointer(base)
            }
            // A rule is the line's first word; `//` starts a comment.
            var wordEnd = start
            while wordEnd < end && base[wordEnd] > 32 { wordEnd += 1 }
            if wordEnd > start, base[wordEnd - 1] == lastByte, base[start] != UInt8(ascii: "/"),
                isSuffix(base, start: start, end: wordEnd, of: domain)
            {
                ranges.append(start..<wordEnd)
            }
            start = end + 1
        }
        return ranges
    }

    /// Whether the rule `base[start..<end]`, without its `!` or leading `*.`, is `domain` or
    /// ends it at a label boundary.
    private static func isSuffix(_ base: UnsafePointer<UInt8>, start: Int, end: Int, of domain: [UInt8]) -> Bool {
        var start = start
        if base[start] == UInt8(ascii: "!") {
            start += 1
        } else if end - start >= 2 && base[start] == UInt8(ascii: "*") && base[start + 1] == UInt8(ascii: ".") {
            start += 2
        }
        let length = end - start
        guard length > 0, length <= domain.count else { return false }
        let offset = domain.count - length
        for index in 0..<length where base[start + index] != domain[offset + index] { return false }
        return offset == 0 || domain[offset - 1] == UInt8(ascii: ".")
    }

    /// A domain's labels, lower-cased, without a trailing dot.
    static func labels(_ domain: String) -> [Substring] {
        var text = Substring(domain.lowercased())
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty else { return [] }
        return text.split(separator: ".", omittingEmptySubsequences: false)
    }
}
