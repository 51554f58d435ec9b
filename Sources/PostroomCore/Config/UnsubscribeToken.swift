/// An unsubscribe token that carries what it is about: who unsubscribes, from which list (or
/// from all mail), and the day it was issued, signed with the site's unsubscribe key.
///
/// ```
/// token   = base64url(PAYLOAD) "." base64url(MAC)            (both without "=" padding)
/// PAYLOAD = DAY LF ADDRESS [LF LIST]                         (UTF-8; ADDRESS, LIST lower-cased)
/// MAC     = HMAC-SHA256(key, "postroom-unsubscribe-v1" LF PAYLOAD), its first 16 bytes
/// ```
///
/// DAY is the issue day in days since 1970-01-01 UTC, in decimal. The purpose string keeps a
/// MAC made with the same key for anything else from passing as a token. A web application
/// verifies a token in Python with:
///
/// ```python
/// def unb64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
/// payload, mac = (unb64(part) for part in token.split("."))
/// good = hmac.new(key, b"postroom-unsubscribe-v1\n" + payload, hashlib.sha256).digest()[:16]
/// if not hmac.compare_digest(mac, good): refuse()
/// day, address, *scope = payload.decode().split("\n")   # scope: [] or [list]
/// ```
///
/// and checks the age against `unsubscribe_token_lifetime` as `verify` does.
public struct UnsubscribeToken: Sendable, Equatable {
    /// The address to suppress, lower-cased.
    public let address: String
    /// The list the token unsubscribes from (lower-cased), or nil for all mail.
    public let list: String?
    /// The issue day: days since 1970-01-01 UTC.
    public let day: Int

    /// Seconds in a day.
    static let daySeconds = 86_400
    /// How far ahead of this machine's clock an issue day may be (another host's clock).
    static let clockSkew = 3_600
    /// The bytes of the MAC kept in the token: 128 bits.
    static let macLength = 16
    /// Mixed into the MAC so the key signs nothing else that could pass for a token.
    static let purpose = Array("postroom-unsubscribe-v1\n".utf8)
    /// The largest issue day read back (year 29,349): keeps the date arithmetic far from overflow.
    static let maximumDay = 9_999_999

    /// A token for `address` (a member of `list`, when given), issued on `day`.
    public init(address: String, list: String? = nil, day: Int) {
        self.address = address.lowercased()
        self.list = list?.lowercased()
        self.day = day
    }

    /// A token for `address` (a member of `list`, when given), issued at `time`.
    public init(address: String, list: String? = nil, issued time: Timestamp) {
        self.init(address: address, list: list, day: Self.day(of: time))
    }

    /// The day `time` falls on, in days since 1970-01-01 UTC.
    static func day(of time: Timestamp) -> Int {
        time.seconds >= 0 ? time.seconds / daySeconds : (time.seconds + 1) / daySeconds - 1
    }

    /// The issue day as `YYYY-MM-DD`.
    public var issueDate: String { Self.date(day: day) }

    /// `YYYY-MM-DD` for a day number.
    static func date(day: Int) -> String {
        String(SpoolLog.isoTime(Timestamp(seconds: day &* daySeconds)).prefix(10))
    }

    private var payload: [UInt8] {
        var text = "\(day)\n\(address)"
        if let list { text += "\n\(list)" }
        return Array(text.utf8)
    }

    /// The token's text, signed with `key`.
    public func text(signedWith key: UnsubscribeKey) -> String {
        let payload = payload
        let mac = key.mac(Self.purpose, payload).prefix(Self.macLength)
        return Base64URL.encode(payload) + "." + Base64URL.encode(mac)
    }

    /// Why a token is refused.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not in the token's form at all (truncated, mangled, or from another system).
        case malformed(String)
        /// The MAC does not match: forged, altered, or signed with another key.
        case forged
        /// Signed by us but older than the lifetime allows.
        case expired(UnsubscribeToken, lifetime: Int)
        /// Signed by us but dated on a day still to come by this machine's clock.
        case future(UnsubscribeToken)

        /// The token's contents when it is authentic (expired or future-dated), else nil.
        public var authenticToken: UnsubscribeToken? {
            switch self {
            case .expired(let token, _), .future(let token): token
            case .malformed, .forged: nil
            }
        }

        public var description: String {
            switch self {
            case .malformed(let why): "not an unsubscribe token: \(why)"
            case .forged: "the token's signature does not match (forged, altered, or made with another key)"
            case .expired(let token, let lifetime):
                "the token expired: issued \(token.issueDate), valid for \(DurationText.text(lifetime))"
            case .future(let token):
                "the token is dated in the future (\(token.issueDate)); check the clocks of this machine and the sender"
            }
        }
    }

    /// The token `text` says, when `key` signed it and it is no older than `lifetime` seconds
    /// at `now` (0: tokens never expire). Never traps, whatever `text` holds.
    public static func verify(
        _ text: String, key: UnsubscribeKey, now: Timestamp, lifetime: Int
    ) -> Result<UnsubscribeToken, Refusal> {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return .failure(.malformed("expected two base64url parts joined by a dot, got \(text.utf8.count) bytes"))
        }
        guard let payload = Base64URL.decode(parts[0]), let mac = Base64URL.decode(parts[1]),
            mac.count == macLength, !payload.isEmpty
        else {
            return .failure(.malformed("a part is not unpadded base64url, or the signature is not 16 bytes"))
        }
        guard constantTimeEqual(mac, Array(key.mac(purpose, payload).prefix(macLength))) else {
            return .failure(.forged)
        }
        // Signed by us, so well formed unless the key signed something else; checked all the same.
        let fields = payload.split(separator: 10, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard fields.count == 2 || fields.count == 3, fields[0].utf8.count <= 7,
            fields[0].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let day = Int(fields[0]), day <= maximumDay,
            fields.dropFirst().allSatisfy({ field in !field.isEmpty && !field.utf8.contains { $0 <= 32 || $0 == 127 } })
        else {
            return .failure(.malformed("the signed contents are not DAY, ADDRESS [, LIST]"))
        }
        let token = UnsubscribeToken(address: fields[1], list: fields.count == 3 ? fields[2] : nil, day: day)
        let issuedAt = day * daySeconds
        if issuedAt > now.seconds &+ clockSkew { return .failure(.future(token)) }
        // Counted from the end of the issue day: a token is good for at least the lifetime.
        let (expiry, overflow) = (issuedAt + daySeconds).addingReportingOverflow(lifetime)
        if lifetime > 0 && !overflow && now.seconds >= expiry {
            return .failure(.expired(token, lifetime: lifetime))
        }
        return .success(token)
    }

    /// Compares in time that depends only on the length, so a forger learns nothing from timing.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// The unsubscribe key (`unsubscribe_key_file`), with its HMAC-SHA256 pads (RFC 2104) prepared
/// once: a list post signs a token per member.
public struct UnsubscribeKey: Sendable {
    private let innerPad: [UInt8]
    private let outerPad: [UInt8]

    /// A key from its bytes.
    public init(_ key: [UInt8]) {
        // RFC 2104: a key longer than the hash's block is hashed first, then padded to the block.
        var block = key.count > 64 ? Digest.hash(.sha256, key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        innerPad = block.map { $0 ^ 0x36 }
        outerPad = block.map { $0 ^ 0x5c }
    }

    /// The key in `unsubscribe_key_file`; a configuration error when it is not set or unsafe.
    public static func configured(_ configuration: Configuration) throws(PostroomError) -> UnsubscribeKey {
        guard let path = configuration.value(Configuration.unsubscribeKeyFile) else {
            throw .configuration(
                location: configuration.path,
                reason:
                    "unsubscribe_key_file is not set: tokens are checked with the key render and route sign them with"
            )
        }
        return UnsubscribeKey(try SecretFile.read(path, purpose: "unsubscribe key"))
    }

    /// HMAC-SHA256 of `first` followed by `second` (equal to `Digest.hmac`).
    func mac(_ first: [UInt8], _ second: [UInt8]) -> [UInt8] {
        var inner = Digest.Hasher(.sha256)
        inner.update(innerPad)
        inner.update(first)
        inner.update(second)
        var outer = Digest.Hasher(.sha256)
        outer.update(outerPad)
        outer.update(inner.finish())
        return outer.finish()
    }
}

/// Base64 with the URL-safe alphabet (RFC 4648 section 5), unpadded.
enum Base64URL {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var text = Base64.encode(bytes)
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// Whether `byte` is in the URL-safe alphabet.
    static func isAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// The bytes, or nil unless `text` is exactly how `encode` writes them (one text per token).
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var standard: [UInt8] = []
        standard.reserveCapacity(text.count + 2)
        for byte in text {
            guard isAlphabet(byte) else { return nil }
            standard.append(
                byte == UInt8(ascii: "-") ? UInt8(ascii: "+") : byte == UInt8(ascii: "_") ? UInt8(ascii: "/") : byte)
        }
        guard let bytes = Base64.decode(standard), encode(bytes).utf8.elementsEqual(text) else { return nil }
        return bytes
    }
}
