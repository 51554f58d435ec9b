import Foundation
import Postroom
import TestSupport
import Testing

/// deliver against a real Exim on 127.0.0.1.
@Suite struct EximDeliverTests {
    let directory = TemporaryDirectory()

    @Test func eximAcceptsDefersAndRefusesAsItSays() throws {
        let exim = try EximTestServer()
        let spool = try directory.spool()
        // A current name: an old one would be past its lifetime and expire instead of deferring.
        let now = Timestamp.now().seconds
        for local in ["ada", "tempfail", "reject"] {
            let text =
                "From: team@example.org\nTo: \(local)@school.example\nBcc: hidden@example.org\nSubject: Hello \(local)\n"
                + "X-Postroom-Envelope-To: \(local)%40school.example\n\n.dot line\nbody\n"
            try spool.maildir(.outgoing).add(Array(text.utf8), as: MessageName(base: "\(now).M1P1Q1.\(local)"))
        }
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", exim.url, "--tls", "off"])
        #expect(result.stdout == "sent 1, deferred 1, failed 1\n", "\(result.stderr)")
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["\(now).M1P1Q1.ada:2,"])
        let deferred = try Message(
            parsing: try Files.read(spool.maildir(.deferred).path(of: .new) + "/\(now).M1P1Q1.tempfail"))
        #expect(deferred.control(.lastError) == "451 4.3.0 try again later")
        let failed = try Message(
            parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/\(now).M1P1Q1.reject:2,"))
        #expect(failed.control(.failure) == "550 5.1.1 no such user here")
        let delivered = try exim.delivered()
        #expect(delivered.count == 1)
        let message = try #require(delivered.first)
        #expect(message.contains("Received: from ") && message.contains("by exim.test"))
        #expect(message.contains("Subject: Hello ada") && message.contains("\n.dot line\nbody\n"))
        #expect(!message.contains("Bcc:") && !message.contains("X-Postroom-"))
    }

    @Test func eximTakesAQueueOverOnePipelinedConnection() throws {
        let exim = try EximTestServer()
        let spool = try directory.spool()
        for index in 1...20 {
            let text =
                "From: team@example.org\nTo: s\(index)@school.example\nSubject: Hello \(index)\n"
                + "X-Postroom-Envelope-To: s\(index)%40school.example\n\nbody \(index)\n"
            try spool.maildir(.outgoing).add(
                Array(text.utf8), as: MessageName(base: "1795000000.M\(index)P1Q\(index).exim"))
        }
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", exim.url, "--tls", "off"])
        #expect(result.stdout == "sent 20, deferred 0, failed 0\n", "\(result.stderr)")
        let delivered = try exim.delivered(count: 20)
        #expect(delivered.count == 20)
        #expect(
            Set(delivered.compactMap { $0.split(separator: "\n").last.map(String.init) })
                == Set((1...20).map { "body \($0)" }))
        let log = exim.mainLog()
        #expect(!log.contains("synchronization error"), "\(log)")
        // One connection carried all twenty (the other one logged is the test's readiness probe).
        #expect(log.components(separatedBy: "closed by QUIT").count - 1 == 1, "\(log)")
    }

    @Test func aServerThatCapsMessagesPerConnectionTakesTheRestOnNewOnes() throws {
        let exim = try EximTestServer(messagesPerConnection: 3)
        let spool = try directory.spool()
        let now = Timestamp.now().seconds
        for index in 1...10 {
            let text =
                "From: team@example.org\nTo: s\(index)@school.example\nSubject: Hello \(index)\n"
                + "X-Postroom-Envelope-To: s\(index)%40school.example\n\nbody \(index)\n"
            try spool.maildir(.outgoing).add(
                Array(text.utf8), as: MessageName(base: "\(now).M\(index)P1Q\(index).exim"))
        }
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", exim.url, "--tls", "off"])
        #expect(result.status == 0)
        #expect(result.stdout == "sent 10, deferred 0, failed 0\n", "\(result.stderr)")
        #expect(!result.stderr.contains("status=deferred") && !result.stderr.contains("connection failures"))
        #expect(try exim.delivered(count: 10).count == 10)
        #expect(exim.mainLog().contains("too many messages"), "\(exim.mainLog())")
    }
}
