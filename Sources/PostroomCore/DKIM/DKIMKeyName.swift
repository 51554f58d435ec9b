/// Where a DKIM signing key comes from, named as OpenDKIM's KeyTable names keys:
/// `DOMAIN:SELECTOR:KEYFILE` (`deliver --dkim`, the `dkim` configuration key, `postroom lint`).
///
/// The one parser of that text: `deliver` loads the key file it names, `lint` only reads the
/// domain. Each caller turns a `ParseError` into its own kind of error (and exit code).
public struct DKIMKeyName: Sendable, Equatable, CustomStringConvertible {
    /// The signing domain (`d=`), lower case, without a final dot.
    public var domain: String
    /// The selector (`s=`): the key is published at `SELECTOR._domainkey.DOMAIN`.
    public var selector: String
    /// The private key file.
    public var keyFile: String

    /// Why a specification was refused.
    public struct ParseError: Error, Sendable, Equatable {
        /// The specification as given.
        public let text: String
        /// What is wrong with it, ending with an example of the right form when that helps.
        public let reason: String
    }

    /// A key name from its parts.
    public init(domain: String, selector: String, keyFile: String) {
        self.domain = domain.lowercased()
        self.selector = selector
        self.keyFile = keyFile
    }

    /// Parses `DOMAIN:SELECTOR:KEYFILE`: the file is everything after the second colon (a path
    /// may hold colons), the domain and the selector are DNS names (RFC 6376 3.1).
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[2].isEmpty else {
            throw ParseError(
                text: text,
                reason: "is not DOMAIN:SELECTOR:KEYFILE (for example example.org:s2026:/etc/postroom/dkim/s2026.key)")
        }
        var domain = parts[0]
        if domain.hasSuffix(".") { domain.removeLast() }
        guard !domain.hasPrefix("["), AddressParser.isValidDomain(domain) else {
            throw ParseError(text: text, reason: "\"\(parts[0].escapingControls)\" is not a domain")
        }
        guard !parts[1].hasPrefix("["), AddressParser.isValidDomain(parts[1]) else {
            throw ParseError(text: text, reason: "\"\(parts[1].escapingControls)\" is not a selector (DNS labels)")
        }
        self.init(domain: domain, selector: parts[1], keyFile: parts[2])
    }

    /// The specifications of a comma-separated list (the `dkim` configuration key), spaces
    /// around each removed, empty items skipped.
    public static func parseList(_ list: String) throws(ParseError) -> [DKIMKeyName] {
        try list.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }.map {
            (text) throws(ParseError) in try DKIMKeyName(parsing: text)
        }
    }

    /// `DOMAIN:SELECTOR:KEYFILE`, what `deliver --dkim` takes.
    public var description: String { "\(domain):\(selector):\(keyFile)" }
}

extension DKIMKeyName.ParseError: CustomStringConvertible {
    /// `DKIM key "TEXT" REASON`: the caller puts where it came from in front.
    public var description: String { "DKIM key \"\(text.escapingControls)\" \(reason)" }
}
