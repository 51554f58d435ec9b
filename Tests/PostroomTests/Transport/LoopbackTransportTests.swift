import Foundation
import Postroom
import TestSupport
import Testing

/// The loopback recipient on the wire: one more RCPT TO in the same transaction, whose refusal
/// changes nothing, and which never gets a message its real recipient did not (aiosmtpd on
/// 127.0.0.1 started by the tests; "defer…" and "reject…" local parts are refused).
@Suite struct LoopbackTransportTests {
    let loopback = "loopback@lists.example.org"

    func message(to recipient: String) -> [UInt8] {
        Array("From: team@example.org\nTo: \(recipient)\nSubject: Test\n\nHello.\n".utf8)
    }

    func envelope(_ recipient: String, loopback: String? = nil) throws -> Envelope {
        let plain = try Envelope(sender: "bounces@example.org", recipients: [recipient])
        return try plain.addingLoopback(loopback ?? self.loopback)
    }

    func transport(_ server: SMTPTestServer) throws -> SMTPTransport {
        var settings = SMTPTransport.Settings(url: server.url)
        settings.tls = .off
        return try SMTPTransport(settings: settings)
    }

    @Test func theLoopbackIsASecondRecipientOfTheSameTransactionNeverInTheHeader() throws {
        for mode in [SMTPTestServer.Mode.accept, .plain] {
            let server = try SMTPTestServer(mode)
            let smtp = try transport(server)
            // Announced ahead (pipelining): each message's envelope rides with the one before.
            let messages = try (1...3).map {
                Outbound(data: message(to: "s\($0)@example.org"), envelope: try envelope("s\($0)@example.org"))
            }
            for (index, outbound) in messages.enumerated() {
                let next = messages.indices.contains(index + 1) ? messages[index + 1] : nil
                let outcome = smtp.deliver(outbound, announcing: next)
                guard case .sent(_, _, .sent) = outcome else {
                    Issue.record("\(mode) message \(index + 1): \(outcome)")
                    return
                }
                let received = try server.envelope(index + 1)
                #expect(received.to == ["s\(index + 1)@example.org", loopback])
                #expect(received.pipelined == (mode == .accept))
            }
            smtp.close()
            #expect(server.connections == 1)
            for text in try server.messages() { #expect(!text.contains(loopback)) }
        }
    }

    @Test func aRefusedLoopbackChangesNothingAboutTheMessage() throws {
        for mode in [SMTPTestServer.Mode.byrecipient, .plain] {
            let server = try SMTPTestServer(mode)
            let smtp = try transport(server)
            for (index, refused) in ["reject-loop@example.org", "defer-loop@example.org"].enumerated() {
                let outcome = smtp.deliver(
                    message(to: "s@example.org"), envelope: try envelope("s@example.org", loopback: refused))
                guard case .sent(let reply, _, .refused(let refusal)) = outcome else {
                    Issue.record("\(mode) \(refused): \(outcome)")
                    continue
                }
                #expect(reply.hasPrefix("250 2.0.0 Ok: queued as Q\(index + 1)"))
                #expect(refusal.hasPrefix(refused.hasPrefix("reject") ? "550 5.1.1" : "451 4.3.0"))
                #expect(try server.envelope(index + 1).to == ["s@example.org"])
            }
        }
    }

    @Test func aRefusedRecipientSendsNothingToTheLoopbackAlone() throws {
        for mode in [SMTPTestServer.Mode.byrecipient, .plain] {
            let server = try SMTPTestServer(mode)
            let smtp = try transport(server)
            let refused = smtp.deliver(message(to: "reject@example.org"), envelope: try envelope("reject@example.org"))
            guard case .failed(let reply, _) = refused else {
                Issue.record("\(mode): \(refused)")
                continue
            }
            #expect(reply.hasPrefix("550 5.1.1 <reject@example.org>"))
            let deferred = smtp.deliver(message(to: "defer@example.org"), envelope: try envelope("defer@example.org"))
            guard case .deferred(let temporary, _, false) = deferred else {
                Issue.record("\(mode): \(deferred)")
                continue
            }
            #expect(temporary.hasPrefix("451 4.3.0"))
            // The loopback had accepted both: had DATA gone out, the server would hold two messages.
            #expect(try server.messages().isEmpty)
            // The connection (or a new one) still carries the next message.
            let next = smtp.deliver(message(to: "s@example.org"), envelope: try envelope("s@example.org"))
            #expect(
                next
                    == .sent(
                        reply: "250 2.0.0 Ok: queued as Q1", relay: "127.0.0.1[127.0.0.1]:\(server.port)",
                        loopback: .sent))
            #expect(try server.envelope(1).to == ["s@example.org", loopback])
        }
    }

    @Test func sendmailGetsTheLoopbackAsOneMoreArgument() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("sendmail")
        try Files.write(path, "#!/bin/sh\ncat > /dev/null\necho \"$@\" > \(directory.file("arguments"))\n")
        chmod(path, 0o755)
        let outcome = try SendmailTransport(program: path).deliver(
            message(to: "s@example.org"), envelope: try envelope("s@example.org"))
        guard case .sent(_, _, .sent) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(
            try Files.text(directory.file("arguments")) == "-i -f bounces@example.org -- s@example.org \(loopback)\n")
    }

    @Test func aLoopbackAddressSMTPCannotCarryIsRefused() throws {
        let plain = try Envelope(sender: nil, recipients: ["s@example.org"])
        #expect(throws: PostroomError.self) { try plain.addingLoopback("loop back@example.org") }
        #expect(throws: PostroomError.self) { try plain.addingLoopback("a@b>\r\nRCPT TO:<evil@example.org") }
    }
}
