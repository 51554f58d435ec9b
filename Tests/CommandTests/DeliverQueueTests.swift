import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// How `deliver` keeps its queues: leftovers, flags brought along, lifetimes, counters, syncs
/// (items 1, 4, 5, 6 and 18 of issue 8).
@Suite struct DeliverQueueTests {
    let directory = TemporaryDirectory()

    func message(to recipient: String, extra: String = "") -> [UInt8] {
        let header = """
            From: Splash <team@example.org>
            To: <\(recipient)>
            Subject: Hello
            X-Postroom-Envelope-To: <\(recipient)>

            """
        return Array((header + (extra.isEmpty ? "" : extra + "\n") + "\nBody.\n").utf8)
    }

    func deliver(_ spool: Spool, _ server: SMTPTestServer, _ extra: [String] = []) throws -> ProcessResult {
        try Run.program("deliver", ["--spool", spool.root, "--once", "--smtp", server.url, "--tls", "off"] + extra)
    }

    /// Item 1: a leftover of a dead deliver in deferred/tmp used to make every later run exit
    /// 73 ("File exists") and abandon the queue.
    @Test func aLeftoverInDeferredTmpDoesNotBlockTheQueue() throws {
        let spool = try directory.spool()
        let server = try SMTPTestServer(.tempfail)
        for index in 1...3 {
            try spool.maildir(.outgoing).add(
                message(to: "s\(index)@example.org"), as: MessageName(base: "1795336174.M\(index)P1Q1.test"))
        }
        try Files.write(spool.maildir(.deferred).path(of: .tmp) + "/1795336174.M1P1Q1.test", "half")
        let result = try deliver(spool, server)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Files.list(spool.maildir(.deferred).path(of: .new)).count == 3)
        #expect(Files.list(spool.maildir(.deferred).path(of: .tmp)).isEmpty)
    }

    /// Item 6: a message moved back by hand with its `:2,S` suffix, claimed by a deliver that died,
    /// used to stay in outgoing/cur for good (and count as done).
    @Test func anSFlaggedClaimInOutgoingIsRecoveredAndSent() throws {
        let spool = try directory.spool()
        let server = try SMTPTestServer(.accept)
        try Files.write(
            spool.maildir(.outgoing).path(of: .cur) + "/1795336174.M9P1Q1.test:2,S",
            message(to: "back@example.org"))
        let result = try deliver(spool, server)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try server.messages().count == 1)
        #expect(Files.list(spool.maildir(.outgoing).path(of: .cur)).isEmpty)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["1795336174.M9P1Q1.test:2,S"])
    }

    /// Item 5: expiry counts from the first attempt recorded in the file, never from its name.
    @Test func theLifetimeCountsFromTheFirstAttemptNotTheName() throws {
        let spool = try directory.spool()
        let server = try SMTPTestServer(.tempfail)
        let sixDaysAgo = ControlHeader.encode(MessageDate.format(Timestamp.now().seconds - 6 * 86_400))
        // Leading digits that look like an old time, and a name with none at all.
        try spool.maildir(.outgoing).add(message(to: "a@example.org"), as: MessageName(base: "20261123-invoice-42"))
        try spool.maildir(.outgoing).add(
            message(to: "b@example.org", extra: "X-Postroom-First-Attempt: \(sixDaysAgo)"),
            as: MessageName(base: "welcome-42"))
        let result = try deliver(spool, server)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Files.list(spool.maildir(.deferred).path(of: .new)) == ["20261123-invoice-42"])
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)) == ["welcome-42:2,"])
        let deferred = try Message(
            parsing: try Files.read(spool.maildir(.deferred).path(of: .new) + "/20261123-invoice-42"))
        #expect(
            deferred.control(.firstAttempt).flatMap(MessageDate.parse).map { $0 > Timestamp.now().seconds - 60 } == true
        )
        // Moved back from failed/ by hand, it starts a new lifetime: the field is gone.
        let failed = try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/welcome-42:2,"))
        #expect(failed.control(.firstAttempt) == nil)
        #expect(failed.control(.failure)?.hasPrefix("gave up after 1 attempts in 6d") == true)
    }

    /// Item 18: an attempt count at Int.max used to trap after the send (exit 132), and the
    /// message was then sent again on every run.
    @Test func aHugeAttemptCountSaturatesInsteadOfTrapping() throws {
        let spool = try directory.spool()
        let server = try SMTPTestServer(.tempfail)
        try spool.maildir(.outgoing).add(
            message(to: "a@example.org", extra: "X-Postroom-Attempts: 9223372036854775807"),
            as: MessageName(base: "1795336174.M1P1Q1.test"))
        let result = try deliver(spool, server)
        #expect(result.status == 0, "\(result.stderr)")
        let deferred = try Message(
            parsing: try Files.read(spool.maildir(.deferred).path(of: .new) + "/1795336174.M1P1Q1.test"))
        #expect(deferred.control(.attempts) == String(Int.max))
    }

    /// Item 4: postroom-deliver(8) states the bound a power cut can resend; --sync-every sets it.
    /// The crash shim's trace counts the directory syncs of sent/cur.
    @Test func syncEverySetsHowManyMovesToSentShareADirectorySync() throws {
        let server = try SMTPTestServer(.accept)
        var syncs: [Int] = []
        for setting in ["1", "64"] {
            let spool = Spool(root: directory.file("spool-\(setting)"))
            try spool.create()
            for index in 1...6 {
                try spool.maildir(.outgoing).add(
                    message(to: "s\(index)@example.org"), as: MessageName(base: "1795336174.M\(index)P1Q\(setting).t"))
            }
            let command = CrashHarness.Command(
                "deliver", ["--spool", spool.root, "--once", "--smtp", server.url, "--sync-every", setting])
            let (result, steps) = try CrashHarness.steps(of: command, in: directory.path)
            #expect(result.status == 0, "\(result.stderr)")
            syncs.append(steps.filter { $0.contains("fsync") && $0.hasSuffix("/sent/cur") }.count)
        }
        #expect(syncs == [6, 1])
        let refused = try Run.program(
            "deliver", ["--spool", directory.file("spool-1"), "--smtp", server.url, "--sync-every", "0"])
        #expect(refused.status == 64)
    }

    /// Mail queued before its recipient unsubscribed or bounced for good is not sent: it fails
    /// with the suppress entry as its reason. A member who left one list is skipped only for
    /// that list's copies (their VERP sender names the list).
    @Test func addressesSuppressedSinceQueuedAreNotMailed() throws {
        let spool = try directory.spool()
        try SuppressFile(spool: spool).add(.init(address: "gone@example.org", note: "2026-12-02 unsubscribed"))
        try SuppressFile(spool: spool).add(.init(address: "kid@example.org", list: "s1@site.example", note: "left"))
        let listSender = "X-Postroom-Envelope-From: <s1-bounces+kid=example.org@site.example>"
        let messages: [(String, [UInt8])] = [
            ("1795336174.M1P1Q1.test", message(to: "gone@example.org")),
            ("1795336174.M2P1Q1.test", message(to: "kid@example.org", extra: listSender)),
            ("1795336174.M3P1Q1.test", message(to: "kid@example.org")),
        ]
        for (name, bytes) in messages { try spool.maildir(.outgoing).add(bytes, as: MessageName(base: name)) }
        let server = try SMTPTestServer(.plain)
        let result = try deliver(spool, server)
        #expect(result.stdout == "sent 1, deferred 0, failed 2\n", "\(result.stderr)")
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["1795336174.M3P1Q1.test:2,"])
        let failed = Files.list(spool.maildir(.failed).path(of: .cur)).sorted()
        #expect(failed.map { MessageName(fileName: $0).base } == ["1795336174.M1P1Q1.test", "1795336174.M2P1Q1.test"])
        let reason = try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/" + failed[0]))
            .control(.failure)
        #expect(reason?.contains("<gone@example.org> is in the suppress file") == true, "\(reason ?? "")")
    }

    /// A server that refuses an address as unknown during the session (550 5.1.1) is a dead
    /// address, as a bounce saying so would be: it goes into suppress at once.
    @Test func aRefusalAsNoSuchUserSuppressesTheAddress() throws {
        let spool = try directory.spool()
        try spool.maildir(.outgoing).add(
            message(to: "reject-gone@example.org"), as: MessageName(base: "1795336174.M1P1Q1.test"))
        let server = try SMTPTestServer(.plain)
        let result = try deliver(spool, server)
        #expect(result.stdout == "sent 0, deferred 0, failed 1\n", "\(result.stderr)")
        let entries = try SuppressFile(spool: spool).read().entries
        let log = try Files.text(spool.logPath)
        #expect(entries.map(\.address) == ["reject-gone@example.org"], "\(log)")
        #expect(entries.first?.note.contains("bounced: 5.1.1") == true, "\(entries)")
        #expect(log.contains("to=<reject-gone@example.org>, status=suppressed"), "\(log)")
    }

    /// Messages are read ahead of the one being sent; one to an address refused meanwhile is
    /// checked again when its turn comes and not sent.
    @Test func anAddressRefusedWhileTheNextMessagesWereReadAheadIsNotMailedAgain() throws {
        let spool = try directory.spool()
        for (index, recipient) in ["reject-gone@example.org", "ann@example.org", "reject-gone@example.org"].enumerated()
        {
            try spool.maildir(.outgoing).add(
                message(to: recipient), as: MessageName(base: "1795336174.M\(index + 1)P1Q1.test"))
        }
        let server = try SMTPTestServer(.plain)
        let result = try deliver(spool, server)
        #expect(result.stdout == "sent 1, deferred 0, failed 2\n", "\(result.stderr)")
        let reasons = try Files.list(spool.maildir(.failed).path(of: .cur)).map { name in
            try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/" + name)).control(.failure)
                ?? ""
        }
        // The server refused the address once; the second message never reached it.
        #expect(reasons.filter { $0.contains("5.1.1") && !$0.contains("suppress file") }.count == 1, "\(reasons)")
        #expect(reasons.filter { $0.contains("<reject-gone@example.org> is in the suppress file") }.count == 1)
    }
}
