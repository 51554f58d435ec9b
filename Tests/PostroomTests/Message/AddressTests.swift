import Postroom
import Testing

@Suite struct AddressTests {
    @Test func parsesAnAddressListWithNamesQuotesCommentsAndGroups() throws {
        let list = try AddressParser.parseList(
            #"Ada Lovelace <ada@example.org>, "Doe, John \"JD\"" <john@example.org>, plain@example.org (Plain Name), "#
                + #"Team: x@example.org, Y <y@example.org>;, undisclosed-recipients:;, <@relay.example:routed@example.org>"#
        )
        #expect(list.count == 6)
        #expect(list[0] == .mailbox(Mailbox(displayName: "Ada Lovelace", localPart: "ada", domain: "example.org")))
        #expect(list[1].mailboxes[0].displayName == #"Doe, John "JD""#)
        #expect(list[2].mailboxes[0].displayName == "Plain Name")
        #expect(
            list[3]
                == .group(
                    name: "Team",
                    members: [
                        Mailbox(localPart: "x", domain: "example.org"),
                        Mailbox(displayName: "Y", localPart: "y", domain: "example.org"),
                    ]))
        #expect(list[4] == .group(name: "undisclosed-recipients", members: []))
        #expect(list[5].mailboxes[0].address == "routed@example.org")
    }

    @Test func decodesEncodedWordDisplayNamesButNotQuotedOnes() throws {
        let box = try Mailbox(parsing: "=?UTF-8?B?5a2m55Sf?= =?UTF-8?Q?_Z=C3=B6e?= <s@example.org>")
        #expect(box.displayName == "学生 Zöe")
        let quoted = try Mailbox(parsing: #""=?UTF-8?Q?x?=" <q@example.org>"#)
        #expect(quoted.displayName == "=?UTF-8?Q?x?=")
    }

    @Test func quotedLocalPartsAndLiterals() throws {
        let box = try Mailbox(parsing: #""john doe"@example.org"#)
        #expect(box.localPart == "john doe")
        #expect(box.address == #""john doe"@example.org"#)
        #expect(try Mailbox(parsing: "postmaster@[192.0.2.1]").domain == "[192.0.2.1]")
    }

    @Test func formatsDisplayNamesSafely() throws {
        let cases: [(String, String)] = [
            ("Ada Lovelace", #""Ada Lovelace" <a@example.org>"#),
            (#"O"Brien \ Sons"#, #""O\"Brien \\ Sons" <a@example.org>"#),
            ("Doe, John", #""Doe, John" <a@example.org>"#),
        ]
        for (name, expected) in cases {
            let box = Mailbox(displayName: name, localPart: "a", domain: "example.org")
            #expect(box.formatted == expected)
            #expect(try Mailbox(parsing: box.formatted) == box)
        }
        #expect(Mailbox(localPart: "a", domain: "example.org").formatted == "a@example.org")
    }

    @Test(arguments: ["山田 太郎", "Zoë \"Zo\" Ünal, PhD", "👩‍🎓 Student", "Ame\u{301}lie"])
    func nonASCIIDisplayNamesRoundTrip(_ name: String) throws {
        let box = Mailbox(displayName: name, localPart: "s", domain: "example.org")
        #expect(box.formatted.utf8.allSatisfy { $0 < 128 })
        #expect(try Mailbox(parsing: box.formatted).displayName == name)
    }

    @Test func envelopePaths() throws {
        #expect(try AddressParser.parsePath("<>") == nil)
        #expect(try AddressParser.parsePath("") == nil)
        #expect(try AddressParser.parsePath("<a@example.org>")?.address == "a@example.org")
        #expect(try AddressParser.parsePath("a@example.org")?.address == "a@example.org")
    }

    @Test(arguments: ["\"a\\\rb\"@example.org", "\"a\\\nb\"@example.org", "\"a\\\0b\"@example.org", "x@y (a\\\nb)"])
    func aQuotedPairMayNotStandForCRLFOrNUL(_ text: String) {
        #expect(throws: PostroomError.self) { try AddressParser.parseList(text) }
    }

    @Test func malformedAddressesAreErrorsNotCrashes() {
        for text in [
            "no-at-sign", "a@", "@example.org", "\"unclosed@example.org", "(unclosed a@b", "A <a@example.org",
            "Team: a@example.org", "a@b@c", "<>", "a b@example.org", "[open@example.org",
        ] {
            #expect(throws: PostroomError.self, "\(text)") {
                _ = try AddressParser.parseList(text).flatMap(\.mailboxes)
            }
        }
    }

    @Test func validatesPlainAddresses() {
        for good in [
            "a@example.org", "first.last+tag@sub.example.co.uk", "x@localhost", "o'brien@example.org",
            "\"quoted local\"@example.org", "ü@exämple.org", "a@[192.0.2.1]",
        ] {
            #expect(AddressParser.isValidAddress(good), "\(good)")
        }
        for bad in [
            "", "a", "a@", "a..b@example.org", ".a@example.org", "a@-example.org", "a@example..org",
            "Name <a@example.org>", "a@exa_mple.org", String(repeating: "l", count: 65) + "@example.org", "a@b, c@d",
        ] {
            #expect(!AddressParser.isValidAddress(bad), "\(bad)")
        }
    }
}

extension AddressTests {
    @Test func plainAddressesAreJudgedAsTheParserJudgesThem() {
        // The fast path for dot-atom addresses must agree with the full parser on its edges.
        for good in ["A@EXAMPLE.ORG", "a.b.c@x.y", "!#$%&'*+-/=?^_`{|}~@example.org", "1@2.3", "a@b-c.d"] {
            #expect(AddressParser.isValidAddress(good), "\(good)")
        }
        for bad in [
            "a.@example.org", "a@example.org.", "a@.example.org", "a b@example.org", "a@b@c.org", "@x.org",
            "a@ex ample.org", "a\"b@example.org", "a(b)@example.org",
            "a@" + String(repeating: "x", count: 64) + ".org",
        ] {
            #expect(!AddressParser.isValidAddress(bad), "\(bad)")
        }
    }
}
