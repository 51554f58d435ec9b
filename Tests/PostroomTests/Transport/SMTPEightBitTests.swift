import Foundation
import Postroom
import TestSupport
import Testing

/// 8-bit content and servers with and without 8BITMIME (RFC 6152) and SMTPUTF8 (RFC 6531).
@Suite struct SMTPEightBitTests {
    let mixed = """
        From: team@example.org
        To: s@example.org
        Subject: Grades
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="outer"

        --outer
        Content-Type: multipart/alternative; boundary="inner"

        --inner
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Grüße aus Zürich — ½ of the class passed.
        .a line with a dot
        --inner
        Content-Type: text/html; charset=utf-8
        Content-Transfer-Encoding: 8bit

        <p>Grüße aus Zürich</p>
        --inner--
        --outer
        Content-Type: application/octet-stream
        Content-Disposition: attachment; filename="data.bin"
        Content-Transfer-Encoding: 8bit

        é
        --outer--

        """

    func deliver(_ text: String, to server: SMTPTestServer) throws -> DeliveryOutcome {
        var settings = SMTPTransport.Settings(url: server.url)
        settings.tls = .off
        let smtp = try SMTPTransport(settings: settings)
        defer { smtp.close() }
        return smtp.deliver(
            Array(text.utf8), envelope: try Envelope(sender: "team@example.org", recipients: ["s@example.org"]))
    }

    /// What Python's email package reads in the one message `server` received.
    func pythonReading(_ server: SMTPTestServer) throws -> [String: Any] {
        let path = server.directory + "/1.eml"
        let result = try Run.program("/usr/bin/env", ["python3", Files.pythonEmailChecker, path])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]]
        return try #require(report?[path])
    }

    @Test func eightBitPartsAreConvertedForAServerWithout8BITMIME() throws {
        let server = try SMTPTestServer(.seven)
        let outcome = try deliver(mixed, to: server)
        guard case .sent = outcome else {
            Issue.record("\(outcome)")
            return
        }
        let received = try Files.read(server.directory + "/1.eml")
        #expect(received.allSatisfy { $0 < 128 })
        #expect(try !server.envelope(1).options.contains("BODY=8BITMIME"))
        let reading = try pythonReading(server)
        #expect((reading["defects"] as? [String]) == [])
        let bodies = try #require(reading["bodies"] as? [String: String])
        #expect(bodies["plain"] == "Grüße aus Zürich — ½ of the class passed.\n.a line with a dot")
        #expect(bodies["html"] == "<p>Grüße aus Zürich</p>")
        // The attachment's two bytes (the line break before a boundary belongs to the boundary).
        #expect((reading["attachments"] as? [[Any]])?.first?.last as? Int == 2)
    }

    @Test func aServerWith8BITMIMEGetsTheBytesAsTheyAre() throws {
        let server = try SMTPTestServer(.accept)
        guard case .sent = try deliver(mixed, to: server) else {
            Issue.record("not sent")
            return
        }
        #expect(try server.envelope(1).options.contains("BODY=8BITMIME"))
        #expect(try server.messages()[0].contains("Grüße aus Zürich — ½"))
    }

    @Test func anEightBitBodyWithoutATypeBecomesUTF8QuotedPrintable() throws {
        let server = try SMTPTestServer(.seven)
        guard case .sent = try deliver("From: team@example.org\nTo: s@example.org\n\nGrüße\n", to: server) else {
            Issue.record("not sent")
            return
        }
        let bodies = try #require(try pythonReading(server)["bodies"] as? [String: String])
        #expect(bodies["plain"] == "Grüße\n")
    }

    @Test func whatCannotBeConvertedFailsClearly() throws {
        let server = try SMTPTestServer(.seven)
        let global = """
            From: team@example.org
            To: s@example.org
            MIME-Version: 1.0
            Content-Type: message/global

            Subject: Grüße

            Hallo

            """
        guard case .failed(let reply, _) = try deliver(global, to: server) else {
            Issue.record("not failed")
            return
        }
        #expect(reply.hasPrefix("554 5.6.3 ") && reply.contains("message/global"), "\(reply)")

        // 8-bit header text needs SMTPUTF8, whatever the server says about 8BITMIME.
        for mode in [SMTPTestServer.Mode.seven, .accept] {
            let other = try SMTPTestServer(mode)
            let outcome = try deliver("From: Zoë <team@example.org>\nTo: s@example.org\n\nHi\n", to: other)
            guard case .failed(let reply, _) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(reply.hasPrefix("550 5.6.7 SMTPUTF8 is required for the 8-bit text in the header"), "\(reply)")
            #expect(try other.messages().isEmpty)
        }
        let international = try SMTPTestServer(.utf8)
        guard case .sent = try deliver("From: Zoë <team@example.org>\nTo: s@example.org\n\nHi\n", to: international)
        else {
            Issue.record("not sent")
            return
        }
        #expect(try international.envelope(1).options.contains("SMTPUTF8"))
    }
}
