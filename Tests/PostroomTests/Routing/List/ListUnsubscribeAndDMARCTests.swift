import Crypto
import Foundation
import PostroomCore
import TestSupport
import Testing

@Suite struct ListUnsubscribeTests {
    /// The fixture's clock: 1,780,000,000 s is day 20,601 since 1970.
    static let day = 20_601

    /// The documented format, computed independently (swift-crypto).
    static func expectedToken(key: [UInt8], list: String?, address: String, day: Int = day) -> String {
        func base64url(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let payload = Data(("\(day)\n\(address)" + (list.map { "\n\($0)" } ?? "")).lowercased().utf8)
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("postroom-unsubscribe-v1\n".utf8) + payload, using: SymmetricKey(data: Data(key)))
        return base64url(payload) + "." + base64url(Data(mac).prefix(16))
    }

    @Test func eachMemberGetsAOneClickLinkScopedToTheList() throws {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", ListSamples.members)
        try fixture.enableUnsubscribe(mailto: "unsubscribe@site.example")
        let copies = try fixture.copies(ListSamples.post)
        #expect(copies.count == 2)
        for copy in copies {
            let member = copy.envelope.recipients[0]
            let message = try copy.parsed()
            let token = Self.expectedToken(
                key: Array("secret-key".utf8), list: "S1234-students@site.example", address: member)
            let encoded = member.replacingOccurrences(of: "@", with: "%40")
            #expect(
                message.values(of: "List-Unsubscribe") == [
                    "<https://site.example/unsubscribe?l=s1234-students%40site.example&a=\(encoded)&t=\(token)>, "
                        + "<mailto:unsubscribe@site.example?subject=unsubscribe%20\(encoded)%20"
                        + "s1234-students%40site.example%20\(token)>"
                ])
            #expect(message.values(of: "List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"])
        }
    }

    /// The prepared-pad HMAC equals an independent HMAC for short, block-sized and long keys.
    @Test(arguments: [1, 32, 64, 65, 200])
    func tokensMatchAnIndependentHMAC(keyLength: Int) throws {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let unsubscribe = try Unsubscribe(urlTemplate: "https://x/{token}", mailto: nil, key: key)
        let time = Timestamp(seconds: Self.day * 86_400 + 86_399)
        #expect(
            unsubscribe.token(for: "ann@example.org", list: "s1@site", issued: time)
                == Self.expectedToken(key: key, list: "s1@site", address: "ann@example.org"))
        #expect(
            unsubscribe.token(for: "ann@example.org", issued: time)
                == Self.expectedToken(key: key, list: nil, address: "ann@example.org"))
    }

    @Test func theListTokenDiffersFromTheAddressTokenAndBetweenLists() throws {
        let unsubscribe = try Unsubscribe(
            urlTemplate: "https://x/{token}", mailto: nil, key: Array("secret-key".utf8))
        let time = Timestamp(seconds: 1_780_000_000)
        let a = unsubscribe.token(for: "ann@example.org", list: "s1@site", issued: time)
        #expect(a == unsubscribe.token(for: "ANN@example.org", list: "S1@Site", issued: time))
        #expect(a != unsubscribe.token(for: "ann@example.org", list: "s2@site", issued: time))
        #expect(a != unsubscribe.token(for: "ann@example.org", issued: time))
        #expect(
            unsubscribe.url(for: "ann@example.org", issued: time)
                == "https://x/\(unsubscribe.token(for: "ann@example.org", issued: time))")
    }
}

@Suite struct ListDMARCTests {
    func fixture(_ policies: [String: DMARCLookup], config: String = "") throws -> ListFixture {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", "ann@example.org\nteacher@school.example\n")
        fixture.dmarc = FakeDMARC(policies: policies)
        fixture.configuration += config
        return fixture
    }

    func first(
        _ fixture: ListFixture, _ options: [String: String] = [:], post: String = ListSamples.post
    ) throws
        -> Message
    {
        try #require(try fixture.copies(post, options: options).first).parsed()
    }

    static let rewritten = "\"The Teacher via S1234-students\" <S1234-students@site.example>"

    @Test(arguments: [DMARCLookup.quarantine, .reject])
    func strictPolicyRewritesFromAndMovesThePosterToReplyTo(policy: DMARCLookup) throws {
        let message = try first(try fixture(["school.example": policy]))
        #expect(message.values(of: "From") == [Self.rewritten])
        #expect(message.values(of: "Reply-To") == ["\"The Teacher\" <teacher@school.example>"])
    }

    @Test func noPolicyKeepsFrom() throws {
        let message = try first(try fixture(["school.example": .none]))
        #expect(message.values(of: "From") == ["The Teacher <teacher@school.example>"])
    }

    @Test func alwaysAndNever() throws {
        let fixture = try fixture(["school.example": .reject])
        #expect(
            try first(fixture, ["from_rewrite": "never"]).values(of: "From") == ["The Teacher <teacher@school.example>"]
        )
        let lax = try self.fixture([:])
        #expect(try first(lax, ["from_rewrite": "always"]).values(of: "From") == [Self.rewritten])
    }

    @Test func posterToCcAndTheListName() throws {
        let fixture = try fixture(["school.example": .reject])
        let message = try first(fixture, ["poster_to": "cc", "reply_to": "keep", "name": "Klasse 5ä"])
        #expect(message.decodedValue(of: "From")?.contains("The Teacher via Klasse 5ä") == true)
        #expect(message.value(of: "From")?.utf8.allSatisfy { $0 < 128 } == true)
        #expect(message.values(of: "Cc") == ["\"The Teacher\" <teacher@school.example>"])
        #expect(message.values(of: "Reply-To").isEmpty)
    }

    @Test func replyToTheListPutsThePosterInCc() throws {
        let message = try first(try fixture(["school.example": .quarantine]), ["reply_to": "list"])
        #expect(message.values(of: "Reply-To") == ["S1234-students@site.example"])
        #expect(message.values(of: "Cc") == ["\"The Teacher\" <teacher@school.example>"])
    }

    @Test func aNamelessPosterIsNamedByAddress() throws {
        let post = ListSamples.post.replacingOccurrences(
            of: "From: The Teacher <teacher@school.example>", with: "From: teacher@school.example")
        let message = try first(try fixture(["school.example": .reject]), post: post)
        #expect(
            message.values(of: "From") == [
                "\"teacher@school.example via S1234-students\" <S1234-students@site.example>"
            ])
    }

    @Test func aPostWithoutAReadableFromGetsTheListsFrom() throws {
        let post = ListSamples.post.replacingOccurrences(
            of: "From: The Teacher <teacher@school.example>", with: "From: not an address")
        let fixture = try fixture([:])
        let message = try first(fixture, ["posters": "anyone"], post: post)
        #expect(
            message.values(of: "From") == [
                "\"teacher@school.example via S1234-students\" <S1234-students@site.example>"
            ])
        #expect(message.values(of: "Reply-To") == ["teacher@school.example"])
    }

    /// Several authors in From: no one domain's policy decides, so the list's From is used.
    @Test func aPostWithSeveralAuthorsGetsTheListsFrom() throws {
        let post = ListSamples.post.replacingOccurrences(
            of: "From: The Teacher <teacher@school.example>",
            with: "From: The Teacher <teacher@school.example>, head@strict.example")
        let message = try first(try fixture(["school.example": .none, "strict.example": .reject]), post: post)
        #expect(message.values(of: "From") == [Self.rewritten])
    }

    @Test func aFailedLookupRewritesByDefault() throws {
        let fixture = try fixture(["school.example": .unavailable("timeout")])
        #expect(try first(fixture).values(of: "From") == [Self.rewritten])
    }

    @Test func aFailedLookupDefersWhenConfigured() throws {
        let fixture = try fixture(
            ["school.example": .unavailable("timeout")], config: "dmarc_lookup_failure = defer\n")
        #expect {
            try fixture.route(ListSamples.post)
        } throws: { error in
            (error as? PostroomError)?.exitStatus == .tempFail
        }
        // A domain that answered is not affected by the setting.
        let answered = try self.fixture(["school.example": .none], config: "dmarc_lookup_failure = defer\n")
        #expect(try first(answered).values(of: "From") == ["The Teacher <teacher@school.example>"])
    }
}
