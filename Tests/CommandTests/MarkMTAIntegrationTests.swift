import Foundation
import Postroom
import TestSupport
import Testing

/// Closing the loop end to end, beside RouteMTAIntegrationTests, through a real Exim on
/// 127.0.0.1 that pipes the site's addresses into `route` (examples/exim/):
/// - `deliver --loopback` sends a bulk message, Exim delivers the recipient's copy to its
///   maildir and pipes the loopback copy into `route` (`^loopback$ loopback`), and the file in
///   `sent/` ends up flagged confirmed;
/// - `deliver --verp` sends a bulk message to a user Exim does not have, Exim bounces it to the
///   message's VERP address and pipes the bounce into `route` (`^bounces(\+.*)?$ bounce`), and
///   the file is flagged bounced and the address suppressed.
@Suite struct MarkMTAIntegrationTests {
    let directory = TemporaryDirectory()
    let domain = EximTestServer.listDomain

    @Test func aBulkMessageSentWithALoopbackCopyIsConfirmedThroughEximAndRoute() throws {
        let rules = directory.file("rules")
        try Files.write(rules, "^loopback$ loopback\n")
        let config = directory.file("postroom.conf")
        try Files.write(config, "rules = \(rules)\nmessage_id_domain = \(domain)\n")
        _ = try Run.program("/bin/chmod", ["a+r", rules, config])
        let spool = try directory.spool()
        let exim = try EximTestServer(command: Run.binary("route"), spool: spool.root, config: config)

        // A message as render writes it: its Message-ID made from its spool name.
        let name = MessageName(base: "\(Timestamp.now().seconds).M1P1Q1.test.R1")
        let message = """
            X-Postroom-Envelope-To: student@member.test
            From: School Office <office@\(domain)>
            To: student@member.test
            Subject: Term dates
            Message-ID: \(MessageID.make(for: name, domain: domain))

            Term starts on Monday.

            """
        try spool.maildir(.outgoing).add(Array(message.utf8), as: name)
        let loopback = "loopback@\(domain)"
        let sent = try Run.program(
            "deliver",
            [
                "--once", "--spool", spool.root, "--config", config, "--smtp", exim.url, "--tls", "off",
                "--loopback", loopback, "--bounce-address", "bounces@\(domain)",
            ])
        #expect(sent.stdout == "sent 1, deferred 0, failed 0\n", "\(sent.stderr)")

        // The recipient's copy names no loopback address anywhere.
        let received = try exim.delivered(count: 1)
        #expect(received.count == 1)
        #expect(received.allSatisfy { $0.contains("Envelope-to: student@member.test\n") && !$0.contains(loopback) })

        // Exim may pipe the copy before deliver has moved the file into sent/: route then
        // exits 75 and Exim keeps it; a queue run after deliver finished confirms it.
        let first = exim.status(of: loopback)
        if first == "deferred" { try exim.runQueue() }
        #expect(exim.status(of: loopback) == "delivered", "\(exim.mainLog())")
        let log = try Files.text(spool.logPath)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["\(name.base):2,CL"], "\(log)")
        #expect(log.contains("\(name.base): to=<student@member.test>, relay=127.0.0.1[127.0.0.1]:\(exim.port)"))
        #expect(log.contains("loopback=<\(loopback)>, status=sent (250 "))
        #expect(log.contains("route["))
        #expect(log.contains(", status=confirmed (loopback after "), "\(log)")
    }

    @Test func aBulkMessageToANonexistentUserBouncesToItsVERPAddressAndSuppressesIt() throws {
        let rules = directory.file("rules")
        try Files.write(rules, "^bounces(\\+.*)?$ bounce\n")
        let config = directory.file("postroom.conf")
        try Files.write(config, "rules = \(rules)\nbounce_address = bounces@\(domain)\nverp = yes\n")
        _ = try Run.program("/bin/chmod", ["a+r", rules, config])
        let spool = try directory.spool()
        let exim = try EximTestServer(
            command: Run.binary("route"), spool: spool.root, config: config,
            routers: """
                no_such_user:
                  driver = redirect
                  domains = member.test
                  local_parts = gone
                  allow_fail
                  data = :fail: 550 5.1.1 <gone@member.test>: no such user here
                """)
        let name = MessageName(base: "\(Timestamp.now().seconds).M2P2Q2.test.R7")
        let message = """
            X-Postroom-Envelope-To: gone@member.test
            From: School Office <office@\(domain)>
            To: gone@member.test
            Subject: Term dates
            Message-ID: \(MessageID.make(for: name, domain: domain))

            Term starts on Monday.

            """
        try spool.maildir(.outgoing).add(Array(message.utf8), as: name)
        let sent = try Run.program(
            "deliver", ["--once", "--spool", spool.root, "--config", config, "--smtp", exim.url, "--tls", "off"])
        #expect(sent.stdout == "sent 1, deferred 0, failed 0\n", "\(sent.stderr)")

        let verp = VERP.encode(message: name, bounceAddress: "bounces@\(domain)")
        #expect(exim.status(of: "gone@member.test") == "bounced", "\(exim.mainLog())")
        #expect(exim.status(of: verp) == "delivered", "\(exim.mainLog())")
        let log = try Files.text(spool.logPath)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["\(name.base):2,B"], "\(log)")
        let suppress = try SuppressFile(spool: spool).read()
        #expect(suppress.entries.map(\.address) == ["gone@member.test"], "\(log)")
        #expect(
            log.contains("\(name.base): to=<gone@member.test>, dsn=5.1.1, orig_to=<\(verp)>, status=bounced"), "\(log)")
        #expect(log.contains("to=<gone@member.test>, status=suppressed"), "\(log)")
    }
}
