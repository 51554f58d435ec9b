import PostroomCore
import TestSupport
import Testing

/// The fixtures of Tests/Fixtures/bounces (real shapes, see its README) read and classified.
@Suite struct DeliveryStatusReportTests {
    static func fixture(_ name: String) throws -> Message {
        let bytes = Array(try Files.text(Files.repositoryPath("Tests/Fixtures/bounces/\(name)")).utf8)
        return try Message(parsing: bytes, source: name)
    }

    static func classify(_ message: Message, nullSender: Bool = true) -> BounceClassification {
        BounceClassification(message: message, report: DeliveryStatusReport(message: message), nullSender: nullSender)
    }

    struct Expected: Sendable, CustomTestStringConvertible {
        var file: String
        var hasReport: Bool
        var recipient: String?
        var status: String?
        var kind: BounceClassification.Kind
        var atOnce: Bool
        var messageID: String?
        var testDescription: String { file }
    }

    static let sentID = "<1764662400.M123456P789Q1.mail.school.example@school.example>"

    static let expectations: [Expected] = [
        // Exim says 5.0.0; the remote server's 550 5.1.1 in the diagnostic is the status used.
        Expected(
            file: "exim-dsn.eml", hasReport: true, recipient: "nosuch@member.test", status: "5.1.1", kind: .address,
            atOnce: true, messageID: sentID),
        // Exim's own failure: 5.0.0 and no diagnostic; the 550 5.1.1 of its text is the status.
        Expected(
            file: "exim-local-dsn.eml", hasReport: true, recipient: "nosuch@member.test", status: "5.1.1",
            kind: .address, atOnce: true, messageID: "<trip-1@member.test>"),
        Expected(
            file: "postfix-dsn.eml", hasReport: true, recipient: "gone@member.test", status: "5.1.1", kind: .address,
            atOnce: true, messageID: "<1764666760.M654321P987Q2.mail.school.example@school.example>"),
        Expected(
            file: "postfix-delayed.eml", hasReport: true, recipient: "slow@member.test", status: "4.4.1",
            kind: .temporary, atOnce: false, messageID: sentID),
        Expected(
            file: "yahoo-policy.eml", hasReport: true, recipient: "kid@yahoo.example", status: "5.7.9", kind: .policy,
            atOnce: false, messageID: "<trip-1@member.test>"),
        Expected(
            file: "gmail-dsn.eml", hasReport: true, recipient: "no.such.pupil@gmail.com", status: "5.1.1",
            kind: .address, atOnce: true, messageID: sentID),
        Expected(
            file: "outlook-ndr.eml", hasReport: true, recipient: "info@contoso.example", status: "5.1.10",
            kind: .address, atOnce: true, messageID: sentID),
        // Mailbox full is soft: recorded, never counted.
        Expected(
            file: "hotmail-mailbox-full.eml", hasReport: true, recipient: "full@hotmail.example", status: "5.2.2",
            kind: .permanent, atOnce: false, messageID: sentID),
        // qmail's "(#5.1.1)" is not an SMTP reply: a bounce without a status, counted but not at once.
        Expected(
            file: "qmail-no-dsn.eml", hasReport: false, recipient: nil, status: nil, kind: .address, atOnce: false,
            messageID: sentID),
        Expected(
            file: "exchange-text-ndr.eml", hasReport: false, recipient: nil, status: "5.1.1", kind: .address,
            atOnce: true, messageID: nil),
        Expected(
            file: "vacation-autoreply.eml", hasReport: false, recipient: nil, status: nil, kind: .autoReply,
            atOnce: false, messageID: nil),
    ]

    @Test(arguments: expectations) func eachShapeIsReadAndClassified(_ expected: Expected) throws {
        let message = try Self.fixture(expected.file)
        let report = DeliveryStatusReport(message: message)
        #expect(report.hasReport == expected.hasReport)
        #expect(report.recipient?.finalRecipient == expected.recipient)
        #expect(report.originalMessageID == expected.messageID)
        let classification = Self.classify(message)
        #expect(classification.status?.description == expected.status)
        #expect(classification.kind == expected.kind)
        #expect(classification.suppressesAtOnce == expected.atOnce)
        #expect(classification.counts == (expected.kind == .address))
    }

    @Test func theReportsFieldsAreReadWithoutTheirTypes() throws {
        let report = DeliveryStatusReport(message: try Self.fixture("postfix-dsn.eml"))
        let recipient = try #require(report.recipient)
        #expect(recipient.originalRecipient == "gone@member.test")
        #expect(recipient.action == "failed")
        #expect(recipient.remoteMTA == "mx.member.test")
        #expect(
            recipient.diagnostic
                == "550 5.1.1 <gone@member.test>: Recipient address rejected: User unknown in virtual mailbox table")
        #expect(report.originalTo == "gone@member.test")
        let exim = DeliveryStatusReport(message: try Self.fixture("exim-dsn.eml"))
        #expect(exim.failedRecipients == ["nosuch@member.test"])
        #expect(exim.recipient?.status == DSNStatus(5, 0, 0))
    }

    @Test func flags() throws {
        #expect(Self.classify(try Self.fixture("gmail-dsn.eml")).flag == "B")
        #expect(Self.classify(try Self.fixture("yahoo-policy.eml")).flag == "B")
        #expect(Self.classify(try Self.fixture("postfix-delayed.eml")).flag == "W")
        #expect(Self.classify(try Self.fixture("vacation-autoreply.eml")).flag == nil)
    }

    static func message(_ text: String) throws -> Message { try Message(parsing: Array(text.utf8)) }

    @Test func autoRepliesOfEveryConventionAreRecognised() throws {
        let headers = [
            "Auto-Submitted: auto-replied", "X-Autoreply: yes", "X-Autorespond: Out of office",
            "Precedence: auto_reply", "Subject: Automatic reply: Term dates", "X-Mailer: vacation 1.2.7",
        ]
        for header in headers {
            let message = try Self.message("From: pat@member.test\n\(header)\n\nAway.\n")
            #expect(Self.classify(message).kind == .autoReply, "\(header)")
        }
        // A person answering the bounce address is neither a bounce nor counted.
        let person = try Self.message("From: pat@member.test\nSubject: Re: Term dates\n\nThanks!\n")
        #expect(Self.classify(person, nullSender: false).kind == .notBounce)
        // Exim's old text bounce carries Auto-Submitted too, but is a bounce.
        let exim = try Self.message(
            "From: Mail Delivery System <Mailer-Daemon@x.example>\nAuto-Submitted: auto-replied\n"
                + "X-Failed-Recipients: a@b.example\nSubject: Mail delivery failed: returning message to sender\n\n"
                + "  a@b.example\n    Unrouteable address\n")
        #expect(Self.classify(exim).kind == .address)
    }

    @Test func aPermanentFailureThatSpeaksOfSpamIsAPolicyRefusal() throws {
        let text = """
            From: MAILER-DAEMON@relay.example
            Content-Type: multipart/report; report-type=delivery-status; boundary=b

            --b
            Content-Type: message/delivery-status

            Reporting-MTA: dns; relay.example

            Final-Recipient: rfc822; a@b.example
            Action: failed
            Status: 5.0.0
            Diagnostic-Code: smtp; 550 Message rejected as spam by Content Filtering
            --b--

            """
        #expect(Self.classify(try Self.message(text)).kind == .policy)
        let dmarc = text.replacingOccurrences(of: "Message rejected as spam by Content Filtering", with: "5.7.26 DMARC")
        #expect(Self.classify(try Self.message(dmarc)).kind == .policy)
    }

    @Test(arguments: [
        // No boundary, a boundary never closed, nested too deep, base64 that is not, a part without header.
        "Content-Type: multipart/report; report-type=delivery-status\n\n--x\nStatus: 5.1.1\n",
        "Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b\nStatus: 5.1.1\n",
        "Content-Type: multipart/mixed; boundary=a\n\n"
            + String(repeating: "--a\nContent-Type: multipart/mixed; boundary=a\n\n", count: 200),
        "Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n!!!\n--x--\n",
        "Content-Type: multipart/report; boundary=x\n\n--x\n--x\n\n--x--\n",
        "Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nStatus: 9.9.9999\nAction: \u{1}\n--x--\n",
        "Subject: x\n\n550 5.999999999999999999999.1 overflow\n550-5.\n",
    ])
    func brokenMIMEIsReadAsFarAsItGoes(_ text: String) throws {
        let message = try Self.message("From: MAILER-DAEMON@x.example\n" + text)
        let report = DeliveryStatusReport(message: message)
        _ = Self.classify(message)
        #expect(report.recipients.count <= DeliveryStatusReport.maximumParts)
    }

    @Test func theReportInAnUnclosedPartIsStillRead() throws {
        let message = try Self.message(
            "From: MAILER-DAEMON@x.example\nContent-Type: multipart/report; boundary=x\n\n--x\n"
                + "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nStatus: 5.1.1\n")
        let report = DeliveryStatusReport(message: message)
        #expect(report.recipient?.finalRecipient == "a@b.example")
        #expect(report.recipient?.status == DSNStatus(5, 1, 1))
    }

    @Test func statusCodesInText() {
        func found(_ text: String) -> String? { DSNStatus.reply(in: Array(text.utf8))?.0.description }
        #expect(found("host said: 550 5.1.1 <a@b>: user unknown") == "5.1.1")
        #expect(found("550-5.1.1 The email account") == "5.1.1")
        #expect(found("550 550 5.1.1 user unknown") == "5.1.1")
        #expect(found("451 4.7.1 greylisted") == "4.7.1")
        // The class must agree, and a bare code or a number inside a word is not a reply.
        #expect(found("550 4.1.1 odd") == nil)
        #expect(found("Sorry, no mailbox here by that name. (#5.1.1)") == nil)
        #expect(found("id 1550 5.1.1") == nil)
        #expect(found("x550 5.1.1") == nil)
        #expect(DSNStatus("5.1.10") == DSNStatus(5, 1, 10))
        #expect(DSNStatus("5.1") == nil)
        #expect(DSNStatus("3.1.1") == nil)
        #expect(DSNStatus("5.1.1000") == nil)
    }
}
