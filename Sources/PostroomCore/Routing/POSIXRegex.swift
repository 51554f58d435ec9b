import Glibc

/// A POSIX extended regular expression (regcomp(3)), matched case-insensitively.
///
/// The C library's engine compiles a hundred patterns in well under a millisecond, where Swift's
/// `Regex` costs far more per pattern; `route` compiles its whole table on every start.
public final class POSIXRegex: @unchecked Sendable {
    private let compiled: UnsafeMutablePointer<regex_t>
    /// The pattern as written.
    public let pattern: String

    /// Whether matches report groups (compiled without `REG_NOSUB`).
    public let capturing: Bool

    /// Compiles `pattern`; the error text is regerror(3)'s. Without `capturing` the engine skips
    /// the bookkeeping for groups and `match` returns none.
    public init(_ pattern: String, capturing: Bool = true) throws(PostroomError) {
        // Compiled before any stored property is set: a class whose init throws after that
        // runs its deinit, which would free the pattern a second time.
        let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let code = regcomp(regex, pattern, REG_EXTENDED | REG_ICASE | (capturing ? 0 : REG_NOSUB))
        if code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            regerror(code, regex, &buffer, buffer.count)
            regex.deallocate()
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .malformed(what: "pattern", location: nil, reason: "\"\(pattern)\": \(text)")
        }
        self.pattern = pattern
        self.capturing = capturing
        compiled = regex
    }

    /// How many groups the pattern has (`$1` ... `$N` can name them).
    public var groupCount: Int { Int(compiled.pointee.re_nsub) }

    deinit {
        regfree(compiled)
        compiled.deallocate()
    }

    /// The whole match and the groups (`$0`, `$1`, ...) if `text` matches; a group that did not
    /// take part is empty.
    public func match(_ text: String) -> [String]? {
        guard capturing else {
            guard !text.utf8.contains(0) else { return nil }
            return text.withCString { regexec(compiled, $0, 0, nil, 0) } == 0 ? [] : nil
        }
        let groups = Int(compiled.pointee.re_nsub) + 1
        var matches = [regmatch_t](repeating: regmatch_t(), count: groups)
        let bytes = Array(text.utf8)
        // regexec wants a C string: an address with a NUL in it cannot match.
        guard !bytes.contains(0) else { return nil }
        let found = text.withCString { regexec(compiled, $0, groups, &matches, 0) }
        guard found == 0 else { return nil }
        return matches.map { range in
            let start = Int(range.rm_so)
            let end = Int(range.rm_eo)
            guard start >= 0, end >= start, end <= bytes.count else { return "" }
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
    }
}
