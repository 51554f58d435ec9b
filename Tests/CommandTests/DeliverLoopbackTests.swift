import Foundation
import Postroom
import TestSupport
import Testing

/// `deliver --loopback` and `--verp` against aiosmtpd on 127.0.0.1: what the server saw in the
/// envelope, the header it never names the loopback in, and the flag on the file in `sent/`.
@Suite struct DeliverLoopbackTests {
    let directory = TemporaryDirectory()
    let spool: Spool
    let loopback = "loopback@lists.example.org"

    init() throws {
        spool = try directory.spool()
    }

    /// Queues a message to `recipient` in `outgoing/new`; its Message-ID names its file unless `messageID` is given.
    @discardableResult
    func queue(
        _ recipient: String, index: Int, messageID: String? = nil, control: String = ""
    ) throws -> MessageName {
        let name = MessageName(base: "\(Timestamp.now().seconds).M\(index)P1Q1.test.R\(index)")
        let id = messageID ?? MessageID.make(for: name, domain: "example.org")
        let text = "\(control)From: team@example.org\nTo: \(recipient)\nSubject: Hi\nMessage-ID: \(id)\n\nHello\n"
        try spool.maildir(.outgoing).add(Array(text.utf8), as: name)
        return name
    }

    func deliver(_ server: SMTPTestServer, _ extra: [String], config: String = "") throws -> ProcessResult {
        try Files.write(directory.file("postroom.conf"), config)
        return try Run.program(
            "deliver",
            ["--spool", spool.root, "--config", directory.file("postroom.conf"), "--smtp", server.url, "--tls", "off"]
                + extra)
    }

    /// What the server received, by the first RCPT TO.
    func received(
        _ server: SMTPTestServer
    ) throws -> [String: (envelope: SMTPTestServer.ReceivedEnvelope, text: String)] {
        let texts = try server.messages()
        var byRecipient: [String: (SMTPTestServer.ReceivedEnvelope, String)] = [:]
        for index in texts.indices {
            let envelope = try server.envelope(index + 1)
            byRecipient[envelope.to.first ?? ""] = (envelope, texts[index])
        }
        return byRecipient
    }

    var sent: Set<String> { Set(Files.list(spool.maildir(.sent).path(of: .cur))) }

    @Test func theLoopbackGetsEveryMessageWhoseMessageIDNamesItsFile() throws {
        let server = try SMTPTestServer(.accept)
        let named = try queue("a@example.org", index: 1)
        let other = try queue("b@example.org", index: 2, messageID: "<from-the-app@example.org>")
        let result = try deliver(server, ["--loopback", loopback])
        #expect(result.stdout == "sent 2, deferred 0, failed 0\n", "\(result.stderr)")
        let got = try received(server)
        #expect(got["a@example.org"]?.envelope.to == ["a@example.org", loopback])
        #expect(got["a@example.org"]?.envelope.pipelined == true)
        // A copy of this one could never find its file: it would only ever look lost.
        #expect(got["b@example.org"]?.envelope.to == ["b@example.org"])
        for (_, message) in got { #expect(!message.text.contains(loopback)) }
        #expect(sent == ["\(named.base):2,L", "\(other.base):2,"])
        let log = try Files.text(spool.logPath)
        #expect(log.contains("\(named.base): to=<a@example.org>, relay="))
        #expect(log.contains("loopback=<\(loopback)>, status=sent (250 2.0.0 Ok"))
        let otherLines = log.split(separator: "\n").filter { $0.contains("\(other.base): ") }
        #expect(otherLines.count == 1)
        #expect(otherLines.allSatisfy { $0.contains("status=sent") && !$0.contains("loopback=") })
    }

    @Test func aRefusedLoopbackLeavesTheMessageSentWithoutL() throws {
        let server = try SMTPTestServer(.byrecipient)
        let name = try queue("a@example.org", index: 1)
        let result = try deliver(server, ["--loopback", "reject-loop@example.org"])
        #expect(result.stdout == "sent 1, deferred 0, failed 0\n", "\(result.stderr)")
        #expect(try server.envelope(1).to == ["a@example.org"])
        #expect(sent == ["\(name.base):2,"])
        #expect(try Files.text(spool.logPath).contains("loopback=<reject-loop@example.org> refused: 550 5.1.1"))
    }

    @Test func aRefusedRecipientIsFailedOrDeferredAndTheLoopbackGetsNothing() throws {
        let server = try SMTPTestServer(.byrecipient)
        let rejected = try queue("reject@example.org", index: 1)
        let deferred = try queue("defer@example.org", index: 2)
        let result = try deliver(server, ["--loopback", loopback])
        #expect(result.stdout == "sent 0, deferred 1, failed 1\n", "\(result.stderr)")
        #expect(try server.messages().isEmpty)
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)) == ["\(rejected.base):2,"])
        #expect(Files.list(spool.maildir(.deferred).path(of: .new)) == [deferred.base])
        #expect(sent.isEmpty)
    }

    @Test func verpRewritesOnlyTheBounceAddressItself() throws {
        let server = try SMTPTestServer(.accept)
        let bulk = try queue("a@example.org", index: 1)
        let named = try queue("b@example.org", index: 2, control: "X-Postroom-Envelope-From: <Bounces@Example.ORG>\n")
        try queue(
            "c@example.org", index: 3,
            control: "X-Postroom-Envelope-From: <S1-students-bounces+c=example.org@lists.example.org>\n")
        try queue("d@example.org", index: 4, control: "X-Postroom-Envelope-From: <>\n")
        let result = try deliver(server, ["--verp", "--bounce-address", "bounces@example.org"])
        #expect(result.stdout == "sent 4, deferred 0, failed 0\n", "\(result.stderr)")
        let got = try received(server)
        #expect(got["a@example.org"]?.envelope.from == "bounces+\(bulk.messageIDLocalPart)@example.org")
        #expect(got["b@example.org"]?.envelope.from == "bounces+\(named.messageIDLocalPart)@example.org")
        #expect(got["c@example.org"]?.envelope.from == "S1-students-bounces+c=example.org@lists.example.org")
        #expect(got["d@example.org"]?.envelope.from == "<>")
        #expect(VERP.message(in: got["a@example.org"]?.envelope.from ?? "") == bulk)
    }

    @Test func theConfigurationKeysDoWhatTheFlagsDo() throws {
        let server = try SMTPTestServer(.accept)
        let name = try queue("a@example.org", index: 1)
        let config = "bounce_address = bounces@example.org\nverp = yes\nloopback_address = \(loopback)\n"
        let result = try deliver(server, [], config: config)
        #expect(result.stdout == "sent 1, deferred 0, failed 0\n", "\(result.stderr)")
        let envelope = try server.envelope(1)
        #expect(envelope.from == "bounces+\(name.messageIDLocalPart)@example.org")
        #expect(envelope.to == ["a@example.org", loopback])
        #expect(sent == ["\(name.base):2,L"])
    }

    @Test func verpWithoutABounceAddressIsAConfigurationError() throws {
        let server = try SMTPTestServer(.accept)
        let name = try queue("a@example.org", index: 1)
        for (flags, config, expected) in [
            (["--verp"], "", "--verp (verp = yes) needs the bounce address"),
            ([], "verp = yes\n", "--verp (verp = yes) needs the bounce address"),
            ([], "verp = maybe\nbounce_address = b@example.org\n", "verp: takes yes or no, not \"maybe\""),
            ([], "loopback_address = loop back@example.org\n", "is not an address SMTP can carry"),
        ] {
            let result = try deliver(server, flags, config: config)
            #expect(result.status == 78, "\(config)")
            #expect(result.stderr.contains(expected), "\(result.stderr)")
        }
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)) == [name.fileName])
        #expect(server.connections == 0)
    }

    @Test func dryRunShowsTheEnvelopeDeliverWouldSend() throws {
        let name = try queue("a@example.org", index: 1)
        let file = spool.maildir(.outgoing).path(of: name, in: .new)
        let result = try Run.program(
            "deliver",
            ["--dry-run", file, "--verp", "--bounce-address", "bounces@example.org", "--loopback", loopback])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.hasPrefix(
                "MAIL FROM:<bounces+\(name.messageIDLocalPart)@example.org>\r\nRCPT TO:<a@example.org>\r\n"
                    + "RCPT TO:<\(loopback)>\r\nDATA\r\n"))
    }
}
