import Foundation
import PostroomCore
import TestSupport
import Testing

/// Unsubscribe tokens: what they carry, and every way a bad one is refused.
@Suite struct UnsubscribeTokenTests {
    static let key = UnsubscribeKey(Array("secret key".utf8))
    static let day = 20_000
    static let lifetime = 180 * 86_400
    /// Noon on the issue day.
    static let issued = Timestamp(seconds: day * 86_400 + 43_200)

    func verify(
        _ text: String, key: UnsubscribeKey = key, at now: Timestamp = issued, lifetime: Int = lifetime
    )
        -> Result<UnsubscribeToken, UnsubscribeToken.Refusal>
    {
        UnsubscribeToken.verify(text, key: key, now: now, lifetime: lifetime)
    }

    static func base64url(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// `token` with its payload replaced by `payload`, the MAC kept.
    static func replacingPayload(of token: String, with payload: String) -> String {
        base64url(Array(payload.utf8)) + "." + (token.split(separator: ".").last.map(String.init) ?? "")
    }

    @Test func aTokenCarriesTheAddressTheListAndTheDay() throws {
        let bulk = UnsubscribeToken(address: "Ada@Example.org", issued: Self.issued)
        #expect(bulk == UnsubscribeToken(address: "ada@example.org", list: nil, day: Self.day))
        #expect(try verify(bulk.text(signedWith: Self.key)).get() == bulk)
        let member = UnsubscribeToken(address: "kid@example.com", list: "S1234-Students@site", day: Self.day)
        let text = member.text(signedWith: Self.key)
        #expect(try verify(text).get() == member)
        #expect(try verify(text).get().list == "s1234-students@site")
        #expect(member.issueDate == "2024-10-04")
        // URL-safe as it stands, and short enough for a link.
        #expect(text.utf8.allSatisfy { $0 == UInt8(ascii: ".") || Self.urlSafe.contains($0) })
        #expect(bulk.text(signedWith: Self.key).count < 80)
        #expect(text.count < 110)
    }

    static let urlSafe = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8))

    @Test func aChangedSignatureIsForged() throws {
        let text = UnsubscribeToken(address: "ada@example.org", day: Self.day).text(signedWith: Self.key)
        var bytes = Array(text.utf8)
        let last = bytes.count - 2  // not the final character, whose low bits base64 may not use
        bytes[last] = bytes[last] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(verify(String(decoding: bytes, as: UTF8.self)) == .failure(.forged))
    }

    @Test(arguments: [
        "20000\nmallory@example.org",  // another address
        "20000\nada@example.org\ns1@site",  // a bulk token turned into a list token
        "20001\nada@example.org",  // another day
        "20000\nada@example.org ",
    ])
    func anAlteredPayloadIsForged(payload: String) throws {
        let text = UnsubscribeToken(address: "ada@example.org", day: Self.day).text(signedWith: Self.key)
        #expect(verify(Self.replacingPayload(of: text, with: payload)) == .failure(.forged))
    }

    @Test func anAlteredListIsForged() throws {
        let text = UnsubscribeToken(address: "ada@example.org", list: "s1@site", day: Self.day).text(
            signedWith: Self.key)
        #expect(verify(Self.replacingPayload(of: text, with: "20000\nada@example.org\ns2@site")) == .failure(.forged))
        #expect(verify(Self.replacingPayload(of: text, with: "20000\nada@example.org")) == .failure(.forged))
    }

    @Test func anotherKeysTokenIsForged() throws {
        let text = UnsubscribeToken(address: "ada@example.org", day: Self.day).text(
            signedWith: UnsubscribeKey(Array("other key".utf8)))
        #expect(verify(text) == .failure(.forged))
    }

    /// Valid for the lifetime counted from the end of the issue day, and not a second longer.
    @Test func anOldTokenExpires() throws {
        let token = UnsubscribeToken(address: "ada@example.org", day: Self.day)
        let text = token.text(signedWith: Self.key)
        let end = (Self.day + 1) * 86_400 + Self.lifetime
        #expect(try verify(text, at: Timestamp(seconds: end - 1)).get() == token)
        #expect(verify(text, at: Timestamp(seconds: end)) == .failure(.expired(token, lifetime: Self.lifetime)))
        let refusal = verify(text, at: Timestamp(seconds: end + 86_400 * 400))
        #expect(refusal == .failure(.expired(token, lifetime: Self.lifetime)))
        #expect(
            "\(UnsubscribeToken.Refusal.expired(token, lifetime: Self.lifetime))"
                == "the token expired: issued 2024-10-04, valid for 180d")
        // Lifetime 0: never.
        #expect(try verify(text, at: Timestamp(seconds: end + 86_400 * 4000), lifetime: 0).get() == token)
        // A lifetime so long that the end overflows is no lifetime at all.
        #expect(try verify(text, at: Timestamp(seconds: end), lifetime: Int.max).get() == token)
    }

    @Test func aTokenFromTheFutureIsRefused() throws {
        let tomorrow = UnsubscribeToken(address: "ada@example.org", day: Self.day + 1)
        let text = tomorrow.text(signedWith: Self.key)
        #expect(verify(text) == .failure(.future(tomorrow)))
        // Another host's clock an hour ahead at midnight is not the future.
        #expect(try verify(text, at: Timestamp(seconds: (Self.day + 1) * 86_400 - 3_600)).get() == tomorrow)
        let farAhead = UnsubscribeToken(address: "ada@example.org", day: 9_999_999)
        #expect(verify(farAhead.text(signedWith: Self.key)) == .failure(.future(farAhead)))
    }

    /// Whatever arrives, the answer is a refusal, never a trap.
    @Test(arguments: [
        "", ".", "..", "a.b", "a.b.c", "=.=", " ", "token", "\u{0}", "é.ü", String(repeating: "A", count: 100_000),
        "AAAA.AAAAAAAAAAAAAAAAAAAAAA", "AAAA.AAAAAAAAAAAAAAAAAAAAAA==", "AAAA .AAAAAAAAAAAAAAAAAAAAAA",
        "MjAwMDAKYWRhQGV4YW1wbGUub3Jn", "Zm9v.YmFy", "+/+/.+/+/",
        // The token from before tokens carried a date: an HMAC of the address alone.
        "lR_M0Ffzk2hvwItkpjV8zYRoDlbAoEB6rTNXLnrcrP8",
    ])
    func garbageIsRefused(text: String) throws {
        guard case .failure(let refusal) = verify(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(refusal == .forged || "\(refusal)".hasPrefix("not an unsubscribe token"), "\(refusal)")
    }

    /// Signed with the right key (as only a key holder could) yet not in the form: refused, no trap.
    @Test(arguments: [
        "99999999999999999999999\nada@example.org", "-5\nada@example.org", "+5\nada@example.org",
        "20000", "20000\n", "20000\nada@example.org\n", "20000\nada@example.org\ns1@site\nextra",
        "20000\nada example.org", "x\nada@example.org", "",
    ])
    func signedNonsenseIsRefused(payload: String) throws {
        var mac = Array(
            Digest.hmac(
                .sha256, key: Array("secret key".utf8), message: Array("postroom-unsubscribe-v1\n\(payload)".utf8)
            )
            .prefix(16))
        let text = Self.base64url(Array(payload.utf8)) + "." + Self.base64url(mac)
        guard case .failure(let refusal) = verify(text) else {
            Issue.record("accepted \(payload.debugDescription)")
            return
        }
        #expect("\(refusal)".hasPrefix("not an unsubscribe token"), "\(refusal)")
        // The same with a wrong signature is a forgery, whatever it says.
        mac[0] ^= 1
        if !payload.isEmpty {
            #expect(verify(Self.base64url(Array(payload.utf8)) + "." + Self.base64url(mac)) == .failure(.forged))
        }
    }

    /// The Python function in postroom-mark(8), as printed, checks tokens as `verify` does, and a
    /// token Python signs the same way passes `verify`.
    @Test func theDocumentedPythonChecksTokens() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let page = try String(contentsOf: root.appendingPathComponent("man/man8/postroom-mark.8"), encoding: .utf8)
        let start = try #require(page.range(of: "import base64, hashlib, hmac, time\n"))
        let end = try #require(page.range(of: "\n.Ed", range: start.upperBound..<page.endIndex))
        let function = page[start.lowerBound..<end.lowerBound].replacingOccurrences(of: "\\e", with: "\\")
        let now = Timestamp.now()
        let cases: [(String, String)] = [
            (Self.tokenAt(now, list: "s1234-students@site"), "('kid@example.com', 's1234-students@site')"),
            (Self.tokenAt(now, list: nil), "('kid@example.com', None)"),
            (Self.tokenAt(Timestamp(seconds: now.seconds - 170 * 86_400), list: nil), "('kid@example.com', None)"),
            (Self.tokenAt(Timestamp(seconds: now.seconds - 182 * 86_400), list: nil), "None"),
            (Self.tokenAt(Timestamp(seconds: now.seconds + 2 * 86_400), list: nil), "None"),
            (
                UnsubscribeToken(address: "kid@example.com", issued: now).text(
                    signedWith: UnsubscribeKey(Array("other".utf8))), "None"
            ),
            ("not-a-token", "None"), ("a.b.c", "None"),
        ]
        let script =
            function + """

                import sys
                for token in sys.argv[1:]:
                    print(unsubscribe_request(token, b"secret key"))
                mine = f"{int(time.time() // 86400)}\\nada@example.org".encode()
                b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
                mac = hmac.new(b"secret key", b"postroom-unsubscribe-v1\\n" + mine, hashlib.sha256).digest()[:16]
                print(b64(mine) + "." + b64(mac))
                """
        let python = try Run.program("/usr/bin/env", ["python3", "-c", script] + cases.map(\.0))
        #expect(python.status == 0, "\(python.stderr)")
        let lines = python.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.dropLast()) == cases.map(\.1))
        // Swift agrees on each, and accepts what Python signed.
        for (token, expected) in cases {
            let verdict = verify(token, at: now)
            #expect(((try? verdict.get()) != nil) == (expected != "None"), "\(token)")
        }
        let made = try #require(lines.last)
        let verified = try UnsubscribeToken.verify(made, key: Self.key, now: .now(), lifetime: Self.lifetime).get()
        #expect(verified.address == "ada@example.org" && verified.list == nil)
    }

    static func tokenAt(_ time: Timestamp, list: String?) -> String {
        UnsubscribeToken(address: "kid@example.com", list: list, issued: time).text(signedWith: key)
    }

    @Test func durationsReadAndPrint() throws {
        #expect(try DurationText.seconds("180d") == 180 * 86_400)
        #expect(try DurationText.seconds("90") == 90)
        #expect(throws: PostroomError.self) { try DurationText.seconds("soon") }
        #expect(throws: PostroomError.self) { try DurationText.seconds("99999999999999999w") }
        #expect(DurationText.text(180 * 86_400) == "180d")
        #expect(DurationText.text(7_200) == "2h")
        #expect(DurationText.text(90) == "90s")
        #expect(DurationText.text(0) == "0s")
    }
}
