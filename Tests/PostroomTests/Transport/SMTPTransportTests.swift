import Foundation
import Postroom
import TestSupport
import Testing

/// `SMTPTransport` against real SMTP servers (aiosmtpd) on 127.0.0.1 started by the tests.
@Suite struct SMTPTransportTests {
    func message(to recipient: String, body: String = "Hello.\n") -> [UInt8] {
        Array("From: team@example.org\nTo: \(recipient)\nSubject: Test\n\n\(body)".utf8)
    }

    func transport(_ server: SMTPTestServer) throws -> SMTPTransport {
        var settings = SMTPTransport.Settings(url: server.url)
        settings.tls = .off
        return try SMTPTransport(settings: settings)
    }

    func reply(_ outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .sent(let reply, _, _), .failed(let reply, _), .deferred(let reply, _, _): reply
        }
    }

    @Test func theEnvelopeIsPipelinedAndOneConnectionCarriesEveryMessage() throws {
        let server = try SMTPTestServer(.accept)
        let smtp = try transport(server)
        for index in 1...3 {
            let data = message(to: "s\(index)@example.org")
            let outcome = smtp.deliver(
                data, envelope: try Envelope(sender: "team@example.org", recipients: ["s\(index)@example.org"]))
            guard case .sent = outcome else {
                Issue.record("message \(index): \(outcome)")
                return
            }
            let envelope = try server.envelope(index)
            #expect(envelope.pipelined)
            #expect(envelope.options == ["SIZE=\(WireFormat.smtpData(data).count)"])
        }
        smtp.close()
        #expect(smtp.connectionsOpened == 1)
        #expect(server.connections == 1)
    }

    @Test func withoutPipeliningEachCommandWaitsForItsReply() throws {
        let server = try SMTPTestServer(.plain)
        let smtp = try transport(server)
        let outcome = smtp.deliver(
            message(to: "s@example.org"),
            envelope: try Envelope(sender: "team@example.org", recipients: ["s@example.org"]))
        #expect(reply(outcome).hasPrefix("250 2.0.0 Ok: queued as Q1"))
        #expect(try server.envelope(1).pipelined == false)
    }

    @Test func severalRecipientsAreAllAcceptedBeforeDATA() throws {
        let server = try SMTPTestServer(.accept)
        let smtp = try transport(server)
        let outcome = smtp.deliver(
            message(to: "a@example.org, b@example.org"),
            envelope: try Envelope(sender: nil, recipients: ["a@example.org", "b@example.org"]))
        #expect(reply(outcome).hasPrefix("250 "))
        let envelope = try server.envelope(1)
        #expect(envelope.from == "<>")
        #expect(envelope.to == ["a@example.org", "b@example.org"])
    }

    @Test func aRefusedRecipientIsNamedInTheReply() throws {
        let server = try SMTPTestServer(.picky)
        let outcome = try transport(server).deliver(
            message(to: "ok@example.org, reject@example.org"),
            envelope: try Envelope(sender: "team@example.org", recipients: ["ok@example.org", "reject@example.org"]))
        guard case .failed(let reply, _) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(reply == "550 5.1.1 User unknown (recipient <reject@example.org>)")
        #expect(try server.messages().isEmpty)
    }

    @Test func aRefusedRecipientIsResetAndTheConnectionCarriesOn() throws {
        for (mode, expected) in [(SMTPTestServer.Mode.permfail, "550 5.1.1"), (.tempfail, "451 4.3.0")] {
            let server = try SMTPTestServer(mode)
            let smtp = try transport(server)
            for index in 1...3 {
                let outcome = smtp.deliver(
                    message(to: "s@example.org"),
                    envelope: try Envelope(sender: "team@example.org", recipients: ["s\(index)@example.org"]))
                switch outcome {
                case .failed(let reply, _) where mode == .permfail: #expect(reply.hasPrefix(expected))
                case .deferred(let reply, _, let connectionFailed) where mode == .tempfail:
                    #expect(reply.hasPrefix(expected))
                    #expect(!connectionFailed)
                default: Issue.record("\(mode): \(outcome)")
                }
            }
            #expect(server.connections == 1)
            #expect(try server.messages().isEmpty)
        }
    }

    @Test func aMessageOverTheServersSizeLimitFailsWithoutBeingSent() throws {
        let server = try SMTPTestServer(.small)
        let smtp = try transport(server)
        let large = message(to: "s@example.org", body: String(repeating: "0123456789\n", count: 200))
        let outcome = smtp.deliver(
            large, envelope: try Envelope(sender: "team@example.org", recipients: ["s@example.org"]))
        guard case .failed(let reply, _) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(reply.hasPrefix("552 5.3.4 message size"))
        #expect(reply.contains("exceeds the size limit 1000"))
        let small = smtp.deliver(
            message(to: "s@example.org"),
            envelope: try Envelope(sender: "team@example.org", recipients: ["s@example.org"]))
        #expect(self.reply(small).hasPrefix("250 "))
        #expect(try server.messages().count == 1)
    }

    @Test func aConnectionTheServerClosedWhileIdleIsReplaced() throws {
        let server = try SMTPTestServer(.idle)
        let smtp = try transport(server)
        let envelope = try Envelope(sender: "team@example.org", recipients: ["s@example.org"])
        #expect(reply(smtp.deliver(message(to: "s@example.org"), envelope: envelope)).hasPrefix("250 "))
        Thread.sleep(forTimeInterval: 2)
        #expect(reply(smtp.deliver(message(to: "s@example.org"), envelope: envelope)).hasPrefix("250 "))
        #expect(server.connections == 2)
        #expect(try server.messages().count == 2)
    }

    @Test func an8BitBodyIsDeclared() throws {
        let server = try SMTPTestServer(.accept)
        let smtp = try transport(server)
        let data = message(to: "s@example.org", body: "Grüße\n")
        #expect(
            reply(smtp.deliver(data, envelope: try Envelope(sender: "team@example.org", recipients: ["s@example.org"])))
                .hasPrefix("250 "))
        #expect(try server.envelope(1).options.contains("BODY=8BITMIME"))
        #expect(try server.messages()[0].contains("Grüße"))
    }

    @Test func aNonASCIIAddressNeedsSMTPUTF8() throws {
        let envelope = try Envelope(sender: "team@example.org", recipients: ["jürgen@example.org"])
        let plain = try SMTPTestServer(.accept)
        let refused = try transport(plain).deliver(message(to: "s@example.org"), envelope: envelope)
        guard case .failed(let reply, _) = refused else {
            Issue.record("\(refused)")
            return
        }
        #expect(reply.hasPrefix("550 5.6.7 SMTPUTF8 is required for jürgen@example.org"))
        #expect(try plain.messages().isEmpty)

        let international = try SMTPTestServer(.utf8)
        let sent = try transport(international).deliver(message(to: "s@example.org"), envelope: envelope)
        #expect(self.reply(sent).hasPrefix("250 "))
        #expect(try international.envelope(1).to == ["jürgen@example.org"])
        #expect(try international.envelope(1).options.contains("SMTPUTF8"))
    }

    @Test func theNextEnvelopeTravelsWithTheMessageBeforeIt() throws {
        let server = try SMTPTestServer(.accept)
        let smtp = try transport(server)
        let messages = try (1...3).map {
            Outbound(
                data: message(to: "s\($0)@example.org", body: "Body \($0)\n"),
                envelope: try Envelope(sender: "team@example.org", recipients: ["s\($0)@example.org"]))
        }
        for (index, outbound) in messages.enumerated() {
            let next = index + 1 < messages.count ? messages[index + 1] : nil
            #expect(
                reply(smtp.deliver(outbound, announcing: next)).hasPrefix(
                    "250 2.0.0 Ok: queued as Q\(index + 1)"))
        }
        smtp.close()
        #expect(server.connections == 1)
        let received = try server.messages()
        #expect(received.count == 3)
        for index in 1...3 {
            #expect(received[index - 1].contains("Body \(index)\r\n"))
            #expect(try server.envelope(index).to == ["s\(index)@example.org"])
        }
    }

    @Test func anAnnouncedMessageThatNeverComesIsNeverSent() throws {
        let server = try SMTPTestServer(.accept)
        let smtp = try transport(server)
        let envelope = { (name: String) in try Envelope(sender: "team@example.org", recipients: ["\(name)@example.org"])
        }
        let second = Outbound(data: message(to: "second@example.org"), envelope: try envelope("second"))
        #expect(
            reply(smtp.deliver(message(to: "first@example.org"), envelope: try envelope("first"), announcing: second))
                .hasPrefix("250 "))
        // Something else comes instead: the server waiting for the second message's data is left.
        #expect(
            reply(smtp.deliver(message(to: "third@example.org"), envelope: try envelope("third"), announcing: second))
                .hasPrefix("250 "))
        smtp.close()
        #expect(try server.messages().count == 2)
        #expect(try server.envelope(2).to == ["third@example.org"])
        #expect(server.connections == 2)
    }

    @Test(arguments: [SMTPTestServer.Mode.limit, .cap])
    func aServerThatCapsMessagesPerConnectionGetsANewOne(_ mode: SMTPTestServer.Mode) throws {
        let server = try SMTPTestServer(mode)
        let smtp = try transport(server)
        let messages = try (1...5).map {
            Outbound(
                data: message(to: "s\($0)@example.org"),
                envelope: try Envelope(sender: "team@example.org", recipients: ["s\($0)@example.org"]))
        }
        for (index, outbound) in messages.enumerated() {
            let next = index + 1 < messages.count ? messages[index + 1] : nil
            #expect(reply(smtp.deliver(outbound, announcing: next)).hasPrefix("250 "))
        }
        #expect(try server.messages().count == 5)
        #expect(server.connections == 3)
    }

    @Test func smtpsCarriesMessagesOverTLSFromTheFirstByte() throws {
        let server = try SMTPTestServer(.implicit)
        var settings = SMTPTransport.Settings(url: server.url)
        settings.caFile = server.certificate
        let smtp = try SMTPTransport(settings: settings)
        for index in 1...2 {
            let outcome = smtp.deliver(
                message(to: "s@example.org"),
                envelope: try Envelope(sender: "team@example.org", recipients: ["s\(index)@example.org"]))
            #expect(reply(outcome).hasPrefix("250 "), "\(outcome)")
        }
        smtp.close()
        #expect(server.connections == 1)
        #expect(try server.messages().count == 2)
    }

    @Test func aLargeMessageGoesWholeThroughPartialWrites() throws {
        let server = try SMTPTestServer(.accept)
        let smtp = try transport(server)
        let line = String(repeating: "x", count: 76) + "\n"
        let body = String(repeating: line, count: 40_000) + ".a dot line at the end\n"
        let outcome = smtp.deliver(
            message(to: "s@example.org", body: body),
            envelope: try Envelope(sender: "team@example.org", recipients: ["s@example.org"]))
        #expect(reply(outcome).hasPrefix("250 "), "\(outcome)")
        let received = try #require(try server.messages().first)
        #expect(received.hasSuffix(body.replacingOccurrences(of: "\n", with: "\r\n")))
    }

    @Test func a2xxReplyToDATAIsNotADelivery() throws {
        let server = try SMTPTestServer(.confused)
        let smtp = try transport(server)
        for index in 1...2 {
            let outcome = smtp.deliver(
                message(to: "s@example.org"),
                envelope: try Envelope(sender: "team@example.org", recipients: ["s\(index)@example.org"]))
            guard case .deferred(let reply, _, let connectionFailed) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(reply == "unexpected reply to DATA: 250 2.0.0 no data needed")
            #expect(!connectionFailed)
        }
        // The connection was in an unknown state after each: a new one for the second message.
        #expect(server.connections == 2)
        #expect(try server.messages().isEmpty)
    }
}
