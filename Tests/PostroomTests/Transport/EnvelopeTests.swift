import Postroom
import Testing

/// The envelope: one recipient per spool file, and only addresses SMTP can carry.
@Suite struct EnvelopeTests {
    func message(_ header: String) throws -> Message {
        try Message(parsing: Array((header + "\nSubject: Test\n\nBody\n").utf8))
    }

    @Test(arguments: [
        "a@example.org", "first.last+tag@example.org", "\"a b\"@example.org", "\"a\\\"b\"@example.org",
        "jürgen@example.org", "a@[192.0.2.1]", "a@[IPv6:2001:db8::1]",
    ])
    func rfc5321MailboxesAreAccepted(_ address: String) throws {
        #expect(try Envelope(sender: address, recipients: [address]).recipients == [address])
    }

    @Test(arguments: [
        "a@b.example>\r\nRCPT TO:<evil@example.org", "\"a\r\nRCPT TO:<evil@example.org>\"@example.org",
        "\"a\\\r\"@example.org", "\"a\0\"@example.org", "a b@example.org", "a@", "@example.org", "a@exa_mple.org",
        "a@[192.0.2.999]", "a@[x]", "a..b@example.org", "\"open@example.org",
    ])
    func anythingElseIsRefusedBeforeItReachesTheWire(_ address: String) {
        #expect(throws: PostroomError.self) { try Envelope(sender: nil, recipients: [address]) }
        #expect(throws: PostroomError.self) { try Envelope(sender: address, recipients: ["a@example.org"]) }
    }

    @Test func anEscapedLineBreakInASpoolFileNeverBecomesACommand() throws {
        // %5C%0D%5C%0A is a backslash-escaped CR and LF inside the quoted local part.
        let crafted = try message(
            "From: team@example.org\nTo: a@example.org\n"
                + "X-Postroom-Envelope-To: %22a%5C%0D%5C%0ARCPT%20TO:%3Cevil@example.org%3E%22@example.org")
        #expect {
            try Envelope(of: crafted)
        } throws: { error in
            "\(error)".contains("a backslash escapes CR") && !"\(error)".contains("\r")
        }
    }

    @Test func twoEnvelopeRecipientsAreRefusedNamingBoth() throws {
        let two = try message(
            "From: team@example.org\nTo: a@example.org\n"
                + "X-Postroom-Envelope-To: a%40example.org\nX-Postroom-Envelope-To: b%40example.org")
        #expect {
            try Envelope(of: two)
        } throws: { error in
            let text = "\(error)"
            return text.contains("<a@example.org>, <b@example.org>") && text.contains("one file per recipient")
        }
    }

    @Test func severalHeaderRecipientsAreRefusedButRepeatsAreOne() throws {
        #expect(throws: PostroomError.self) {
            try Envelope(of: try message("From: team@example.org\nTo: ok@example.org, reject@example.org"))
        }
        let repeated = try message("From: team@example.org\nTo: ok@example.org\nCc: <ok@Example.ORG>")
        #expect(try Envelope(of: repeated).recipients == ["ok@example.org"])
    }
}
