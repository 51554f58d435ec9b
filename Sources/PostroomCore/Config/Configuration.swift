import Glibc

/// Settings shared by every stage, from `postroom.conf(5)`, the environment and flags.
///
/// The file is `key = value` lines; `#` starts a comment. Precedence, highest first:
/// a command-line flag, the environment (`POSTROOM_SPOOL`, ...), the file, the default.
/// Unknown keys are errors, so a typo never silently falls back to a default.
public struct Configuration: Sendable {
    /// A setting postroom understands, with its environment variable and default.
    public struct Key: Sendable, Hashable {
        /// The name in the file.
        public let name: String
        /// The environment variable that overrides the file, if any.
        public let environment: String?
        /// The value when nothing sets it.
        public let defaultValue: String?
    }

    /// The spool directory.
    public static let spool = Key(name: "spool", environment: "POSTROOM_SPOOL", defaultValue: "/var/spool/postroom")
    /// Domains From may use: `example.org, *.example.org` (the star also allows subdomains).
    public static let sendingDomains = Key(
        name: "sending_domains", environment: "POSTROOM_SENDING_DOMAINS", defaultValue: nil)
    /// The right-hand side of generated Message-IDs (default: the From address's domain).
    public static let messageIDDomain = Key(name: "message_id_domain", environment: nil, defaultValue: nil)
    /// The one-click unsubscribe URL, with `{address}` and `{token}` placeholders.
    public static let unsubscribeURL = Key(name: "unsubscribe_url", environment: nil, defaultValue: nil)
    /// An address for `mailto:` unsubscribe requests, offered beside the URL.
    public static let unsubscribeMailto = Key(name: "unsubscribe_mailto", environment: nil, defaultValue: nil)
    /// The file holding the HMAC key for unsubscribe tokens (not readable by others).
    public static let unsubscribeKeyFile = Key(name: "unsubscribe_key_file", environment: nil, defaultValue: nil)
    /// How long an unsubscribe token is honoured after its issue day (`180d`; 0: for ever).
    public static let unsubscribeTokenLifetime = Key(
        name: "unsubscribe_token_lifetime", environment: nil, defaultValue: "180d")

    /// The largest message in bytes that enters the spool or leaves it (0: no limit); Postfix's name and default.
    public static let messageSizeLimit = Key(name: "message_size_limit", environment: nil, defaultValue: "10240000")
    /// The largest header section in bytes (0: no limit); Postfix's name and default.
    public static let headerSizeLimit = Key(name: "header_size_limit", environment: nil, defaultValue: "102400")

    /// Where `deliver` sends mail: `smtp://host:port`, `smtps://...`, `sendmail:PROGRAM` or `maildir:DIR`.
    public static let transport = Key(name: "transport", environment: nil, defaultValue: nil)

    /// The site's bounce mailbox (`bounces@example.org`): `deliver`'s envelope sender for messages
    /// that name none, and the base of `verp` addresses.
    public static let bounceAddress = Key(name: "bounce_address", environment: nil, defaultValue: nil)
    /// `yes`: `deliver` sends messages from `bounce_address` with the spool name in it (`--verp`).
    public static let verp = Key(name: "verp", environment: nil, defaultValue: "no")
    /// An extra envelope recipient of everything `deliver` sends, routed back to `mark --loopback`.
    public static let loopbackAddress = Key(name: "loopback_address", environment: nil, defaultValue: nil)
    /// `deliver`'s DKIM keys: a comma-separated list of `DOMAIN:SELECTOR:KEYFILE`.
    public static let dkim = Key(name: "dkim", environment: nil, defaultValue: nil)
    /// `deliver`'s DKIM canonicalisation, `HEADER/BODY` of `relaxed` and `simple`.
    public static let dkimCanonicalization = Key(
        name: "dkim_canonicalization", environment: nil, defaultValue: "relaxed/relaxed")

    /// The name of this site in Authentication-Results (RFC 8601 authserv-id): the results a
    /// list copy's ARC set carries; an incoming Authentication-Results field is trusted only
    /// with this id (default: the list's domain).
    public static let authservID = Key(name: "authserv_id", environment: nil, defaultValue: nil)

    /// `route`'s rule table.
    public static let rules = Key(name: "rules", environment: "POSTROOM_RULES", defaultValue: nil)
    /// What `route` does with a message that looped back: `drop` (exit 0, logged) or `bounce` (exit 65).
    public static let mailLoop = Key(name: "mail_loop", environment: nil, defaultValue: "drop")
    /// The file holding the HMAC key for SRS addresses (not readable by others).
    public static let srsKeyFile = Key(name: "srs_key_file", environment: nil, defaultValue: nil)
    /// The domain of SRS addresses: mail to it must reach `route` (default: the routed address's domain).
    public static let srsDomain = Key(name: "srs_domain", environment: nil, defaultValue: nil)
    /// The DNS server for DMARC lookups, `ip` or `ip:port` (default: the system resolver's).
    public static let dnsServer = Key(name: "dns_server", environment: nil, defaultValue: nil)
    /// How long a DNS lookup may take, in milliseconds.
    public static let dnsTimeout = Key(name: "dns_timeout", environment: nil, defaultValue: "2000")
    /// What a list does with From when the DMARC lookup fails: `rewrite` or `defer` (exit 75).
    public static let dmarcLookupFailure = Key(name: "dmarc_lookup_failure", environment: nil, defaultValue: "rewrite")
    /// The public suffix list, for DMARC's organisational domain.
    public static let publicSuffixList = Key(
        name: "public_suffix_list", environment: nil, defaultValue: "/usr/share/publicsuffix/public_suffix_list.dat")

    /// Bounces counted on this many distinct days within `bounce_window` suppress an address.
    public static let bounceDays = Key(name: "bounce_days", environment: nil, defaultValue: "3")
    /// How far back counted bounces are kept: a duration (`30d`).
    public static let bounceWindow = Key(name: "bounce_window", environment: nil, defaultValue: "30d")

    /// Every key the file may contain.
    public static let knownKeys: [Key] = [
        spool, sendingDomains, messageIDDomain, unsubscribeURL, unsubscribeMailto, unsubscribeKeyFile, transport,
        messageSizeLimit, headerSizeLimit, bounceAddress, verp, loopbackAddress, rules, mailLoop, srsKeyFile, srsDomain,
        dnsServer, dnsTimeout, dmarcLookupFailure, publicSuffixList, bounceDays, bounceWindow, unsubscribeTokenLifetime,
        dkim, dkimCanonicalization, authservID,
    ]

    /// Where the file is looked for when neither `--config` nor `POSTROOM_CONFIG` names one.
    public static let defaultPath = "/etc/postroom/postroom.conf"

    /// The file the values came from, if any.
    public let path: String?
    private var fileValues: [String: String]
    private let environment: [String: String]

    /// Loads the configuration: `path`, else `$POSTROOM_CONFIG`, else the default path if it exists.
    public init(
        path explicitPath: String? = nil, environment: [String: String] = ProcessEnvironment.current
    )
        throws(PostroomError)
    {
        self.environment = environment
        let chosen = explicitPath ?? environment["POSTROOM_CONFIG"]
        if let chosen {
            guard FileSystem.exists(chosen) else {
                throw .configuration(
                    location: chosen, reason: "no such file; create it or drop --config / POSTROOM_CONFIG")
            }
            path = chosen
        } else {
            path = FileSystem.exists(Self.defaultPath) ? Self.defaultPath : nil
        }
        fileValues = [:]
        if let path { fileValues = try Self.parse(try Self.read(path), file: path) }
    }

    /// A configuration from text, for tests and tools.
    public init(text: String, environment: [String: String] = [:]) throws(PostroomError) {
        self.environment = environment
        path = nil
        fileValues = try Self.parse(text, file: "configuration")
    }

    /// The effective value of `key`, `flag` winning over everything else.
    public func value(_ key: Key, flag: String? = nil) -> String? {
        if let flag { return flag }
        if let variable = key.environment, let value = environment[variable], !value.isEmpty { return value }
        return fileValues[key.name] ?? key.defaultValue
    }

    /// The yes/no value of `key` (`yes`, `no`, `true`, `false`, `on`, `off`, `1`, `0`), `flag` winning.
    public func isEnabled(_ key: Key, flag: Bool = false) throws(PostroomError) -> Bool {
        if flag { return true }
        let text = value(key) ?? "no"
        switch text.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default:
            throw .configuration(
                location: path.map { "\($0): \(key.name)" } ?? key.name, reason: "takes yes or no, not \"\(text)\"")
        }
    }

    /// The spool these settings point at.
    public func spool(flag: String? = nil) -> Spool {
        Spool(root: value(Self.spool, flag: flag) ?? "/var/spool/postroom")
    }

    private static func read(_ path: String) throws(PostroomError) -> String {
        do {
            return String(decoding: try FileSystem.readFile(path), as: UTF8.self)
        } catch {
            throw .configuration(location: path, reason: error.description)
        }
    }

    static func parse(_ text: String, file: String) throws(PostroomError) -> [String: String] {
        var values: [String: String] = [:]
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
        {
            let line =
                rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingSpaces ?? ""
            if line.isEmpty { continue }
            let location = "\(file) line \(offset + 1)"
            guard let equals = line.firstIndex(of: "=") else {
                throw .configuration(location: location, reason: "expected 'key = value', found \"\(line)\"")
            }
            let key = String(line[..<equals]).trimmingSpaces
            let value = String(line[line.index(after: equals)...]).trimmingSpaces
            guard knownKeys.contains(where: { $0.name == key }) else {
                let names = knownKeys.map(\.name).joined(separator: ", ")
                throw .configuration(location: location, reason: "unknown key \"\(key)\"; known keys: \(names)")
            }
            guard values[key] == nil else {
                throw .configuration(location: location, reason: "\"\(key)\" is set twice")
            }
            values[key] = value
        }
        return values
    }
}

/// The process environment as a dictionary, read without Foundation.
public enum ProcessEnvironment {
    /// The current environment variables.
    public static var current: [String: String] {
        var count = 0
        while environ[count] != nil { count += 1 }
        // Sized once: growing a dictionary rehashes every key, a measurable part of route's start.
        var result = [String: String](minimumCapacity: count)
        var pointer = environ
        while let entry = pointer.pointee {
            // Split at the first `=` on the bytes: searching a String for a Character costs route,
            // which reads the environment on every start, more than the rest of its argument parsing.
            let length = strlen(entry)
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: length)
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                result[String(decoding: bytes[..<equals], as: UTF8.self)] = String(
                    decoding: bytes[(equals + 1)...], as: UTF8.self)
            }
            pointer += 1
        }
        return result
    }
}
