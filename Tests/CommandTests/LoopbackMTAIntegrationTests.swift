import Foundation
import Postroom
import TestSupport
import Testing

/// Loopback confirmation end to end, beside RouteMTAIntegrationTests: `deliver --loopback`
/// sends a bulk message through a real Exim on 127.0.0.1, Exim delivers the recipient's copy
/// to its maildir and pipes the loopback copy into `route` (examples/exim/ and the rule
/// `^loopback$ loopback`), and the file in `sent/` ends up flagged confirmed.
@Suite struct LoopbackMTAIntegrationTests {
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
}
