import Foundation
import Postroom
import TestSupport
import Testing

/// `deliver --watch` while the relay is down, and after it comes back.
@Suite struct DeliverWatchTests {
    let directory = TemporaryDirectory()

    func message(_ index: Int) -> [UInt8] {
        Array(
            """
            From: Splash <team@example.org>
            To: s\(index)@example.org
            Subject: Message \(index)
            X-Postroom-Envelope-To: s\(index)@example.org

            Hello \(index)

            """.utf8)
    }

    @Test func anOutageDefersOneStoppedPassPerIntervalAndTheQueueDrainsWhenTheRelayIsBack() throws {
        let spool = try directory.spool()
        let queued = 300
        let start = Timestamp.now().seconds
        for index in 1...queued {
            try spool.maildir(.outgoing).add(
                message(index), as: MessageName(base: "\(start).M\(index)P1Q\(index).test"))
        }
        // Nothing listens there yet: every connection is refused, as with a relay that is down.
        let port = try EximTestServer.freePort()
        let interval = 10
        let watcher = try Run.start(
            "deliver",
            [
                "--spool", spool.root, "--smtp", "smtp://127.0.0.1:\(port)", "--tls", "off", "--watch",
                "--interval", String(interval),
            ])
        defer { Run.kill9(watcher.0) }
        // Half-way between two passes, so no pass races the snapshot below or the relay coming back.
        let outage = 35
        Thread.sleep(forTimeInterval: Double(outage))
        // Each pass stops after 5 connection failures, then the watcher sleeps the whole interval:
        // at most one stopped pass per interval (and the one at the start).
        let deferred = Files.list(spool.maildir(.deferred).path(of: .new))
        let passes = outage / interval + 1
        #expect(deferred.count >= 5)
        #expect(deferred.count <= 5 * passes, "\(deferred.count) of \(queued) deferred during a \(outage) s outage")

        // The relay comes back where deliver expects it: the next pass sends what never left
        // outgoing/; the few deferred during the outage keep their backoff, as postroom-deliver(8) says.
        let server = try SMTPTestServer(.accept, port: port)
        let deadline = Date().addingTimeInterval(Double(interval) + 60)
        while !Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        while Files.list(spool.maildir(.sent).path(of: .cur)).count < queued - deferred.count && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)).count == queued - deferred.count)
        #expect(Files.list(spool.maildir(.deferred).path(of: .new)) == deferred)
        #expect(try server.messages().count == queued - deferred.count)
    }
}
