/// The Sender Rewriting Scheme as postsrsd (and libsrs2, which it carries) writes it, so the
/// two can share a key and read each other's addresses.
///
/// A forwarded message's envelope sender `local@domain` becomes
/// `SRS0=HHHH=TT=domain=local@SRSDOMAIN`: TT is the day (days since the epoch, modulo 1024)
/// in two base32 characters, HHHH the first four base64 characters of
/// HMAC-SHA1(key, lowercase(TT + domain + local)). A sender already in that form (mail that
/// was forwarded before) becomes `SRS1=HHHH=host==HHHH=TT=domain=local@SRSDOMAIN` with the
/// hash over `host` and the rest, so a bounce goes back through the first forwarder.
public struct SRS: Sendable {
    /// How many days an address stays valid (postsrsd's default).
    public static let maximumAge = 21
    /// Base64 characters of the hash written (and required when reading).
    public static let hashLength = 4

    /// The keys: the first signs, every one verifies (so a key can be replaced gradually).
    public let keys: [[UInt8]]
    /// The domain of the addresses written; mail to it must reach `route`.
    public let domain: String

    /// SRS with `keys` (at least one) for `domain`.
    public init(keys: [[UInt8]], domain: String) throws(PostroomError) {
        guard !keys.isEmpty, !keys.contains(where: \.isEmpty) else {
            throw .configuration(location: nil, reason: "an SRS key must not be empty")
        }
        guard !domain.isEmpty, !domain.contains("@") else {
            throw .configuration(location: Configuration.srsDomain.name, reason: "\"\(domain)\" is not a domain")
        }
        self.keys = keys
        self.domain = domain
    }

    /// SRS as `srs_key_file` and `srs_domain` configure it, or nil when no key file is set.
    /// The key file is postsrsd's: one key a line, the first one signs. `defaultDomain` is
    /// used when `srs_domain` is not set (the routed address's domain).
    public static func configured(
        _ configuration: Configuration, defaultDomain: String
    ) throws(PostroomError) -> SRS? {
        guard let path = configuration.value(Configuration.srsKeyFile) else { return nil }
        let text = try SecretFile.read(path, purpose: "SRS key")
        let keys = text.split(whereSeparator: { $0 == 10 || $0 == 13 }).map { Array($0) }
        return try SRS(keys: keys, domain: configuration.value(Configuration.srsDomain) ?? defaultDomain)
    }

    /// Whether `address` is in SRS form (`SRS0` or `SRS1` and a separator, in any case).
    public static func isSRS(_ address: String) -> Bool {
        let bytes = Array(address.utf8.prefix(5))
        guard bytes.count == 5, bytes[0] | 0x20 == UInt8(ascii: "s"), bytes[1] | 0x20 == UInt8(ascii: "r"),
            bytes[2] | 0x20 == UInt8(ascii: "s")
        else { return false }
        return (bytes[3] == UInt8(ascii: "0") || bytes[3] == UInt8(ascii: "1")) && separators.contains(bytes[4])
    }

    /// The envelope sender for mail forwarded from `sender`: SRS0, or SRS1 when it is already
    /// SRS. A sender in this SRS domain, or without a domain, stays as it is (as in postsrsd).
    public func forward(sender: String, now: Timestamp = .now()) -> String {
        let (local, host) = IncomingMessage.split(sender)
        guard !host.isEmpty, !local.isEmpty, host.lowercased() != domain.lowercased() else { return sender }
        if Self.isSRS(local) {
            let tag = local.utf8.dropFirst(3).first
            if tag == UInt8(ascii: "1") {
                // SRS1=HHHH=firsthost==HHHH=TT=...: re-sign the first host and the rest.
                let parts = local.dropFirst(5).split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return sender }
                return guarded(host: String(parts[1]), rest: String(parts[2]))
            }
            // SRS0=...@host: guard it behind its host.
            return guarded(host: host, rest: String(local.dropFirst(4)))
        }
        let stamp = Self.timestamp(now)
        let hash = hash(key: keys[0], stamp, host, local)
        return "SRS0=\(hash)=\(stamp)=\(host)=\(local)@\(domain)"
    }

    private func guarded(host: String, rest: String) -> String {
        "SRS1=\(hash(key: keys[0], host, rest))=\(host)=\(rest)@\(domain)"
    }

    /// The address an SRS address stands for: the original sender for SRS0, the first
    /// forwarder's SRS0 address for SRS1. The hash is checked case-insensitively (some MTAs
    /// change case) against every key, and an SRS0 address must be at most `maximumAge` days old.
    public func reverse(address: String, now: Timestamp = .now()) throws(SRSError) -> String {
        guard Self.isSRS(address) else { throw .notSRS(address) }
        let local = IncomingMessage.split(address).local
        let isGuarded = local.utf8.dropFirst(3).first == UInt8(ascii: "1")
        if isGuarded {
            // SRS1=HHHH=host=rest
            let parts = local.dropFirst(5).split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else {
                throw .malformed(address, "an SRS1 address is SRS1=HASH=HOST=ADDRESS")
            }
            try check(hash: parts[0], address: address, String(parts[1]), String(parts[2]))
            return "SRS0\(parts[2])@\(parts[1])"
        }
        // SRS0=HHHH=TT=domain=local
        let parts = local.dropFirst(5).split(separator: "=", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, !parts[2].isEmpty, !parts[3].isEmpty else {
            throw .malformed(address, "an SRS0 address is SRS0=HASH=TIME=DOMAIN=LOCAL")
        }
        guard let day = Self.day(parts[1]) else {
            throw .malformed(address, "the time stamp \"\(parts[1])\" is not two base32 characters")
        }
        guard Self.isCurrent(day: day, now: now) else { throw .expired(address, maximumAge: Self.maximumAge) }
        try check(hash: parts[0], address: address, String(parts[1]), String(parts[2]), String(parts[3]))
        return "\(parts[3])@\(parts[2])"
    }

    private func check(hash: Substring, address: String, _ fields: String...) throws(SRSError) {
        guard hash.utf8.count == Self.hashLength else { throw .forged(address) }
        let given = hash.lowercased()
        for key in keys where self.hash(key: key, fields).lowercased() == given { return }
        throw .forged(address)
    }

    private func hash(key: [UInt8], _ fields: String...) -> String { hash(key: key, fields) }

    /// The first `hashLength` base64 characters of HMAC-SHA1 over the fields, each ASCII
    /// lower-cased first (so the case an MTA gives an address does not matter).
    private func hash(key: [UInt8], _ fields: [String]) -> String {
        let message = fields.flatMap { Array($0.utf8) }.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }
        return String(Base64.encode(Digest.hmac(.sha1, key: key, message: message)).prefix(Self.hashLength))
    }

    static let separators: [UInt8] = Array("=+-".utf8)
    static let timeCharacters: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
    static let timeSlots = 1024

    /// Today as two base32 characters (days since the epoch, modulo 1024).
    static func timestamp(_ now: Timestamp) -> String {
        let day = today(now)
        return String(decoding: [timeCharacters[day >> 5], timeCharacters[day & 31]], as: UTF8.self)
    }

    /// The day a time stamp names (modulo 1024), or nil when it is not two base32 characters.
    static func day(_ stamp: Substring) -> Int? {
        guard stamp.utf8.count == 2 else { return nil }
        var value = 0
        for byte in stamp.utf8 {
            let upper = byte >= 97 && byte <= 122 ? byte - 32 : byte
            guard let index = timeCharacters.firstIndex(of: upper) else { return nil }
            value = value << 5 | index
        }
        return value
    }

    /// Whether a stamp for `day` is at most `maximumAge` days old (a stamp from the future
    /// reads as one from 1024 days ago, as in libsrs2).
    static func isCurrent(day: Int, now: Timestamp) -> Bool {
        var today = today(now)
        while today < day { today += timeSlots }
        return today - day <= maximumAge
    }

    /// Days since the epoch, modulo 1024.
    static func today(_ now: Timestamp) -> Int { max(0, now.seconds / 86400) % timeSlots }
}

/// Why an SRS address was not reversed.
public enum SRSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The address is not in SRS form.
    case notSRS(String)
    /// It starts like SRS but its parts are missing or wrong.
    case malformed(String, String)
    /// The hash does not match under any key: forged, or signed with a key no longer held.
    case forged(String)
    /// The time stamp is more than `maximumAge` days old.
    case expired(String, maximumAge: Int)

    /// A line for the bounce and the log.
    public var description: String {
        switch self {
        case .notSRS(let address): "\(address) is not an SRS address"
        case .malformed(let address, let reason): "\(address) is not a valid SRS address: \(reason)"
        case .forged(let address):
            "\(address) is not an SRS address this site made (its hash does not match; forged, or made with another key)"
        case .expired(let address, let days):
            "\(address) has expired (SRS addresses are valid for \(days) days); the original sender cannot be reached this way"
        }
    }
}
