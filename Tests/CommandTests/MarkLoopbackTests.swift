import Foundation
import Postroom
import TestSupport
import Testing

/// `mark --loopback` and route's `loopback` handler as an MTA runs them: a copy of a sent
/// message on standard input, flag `C` on its file in `sent/cur/`, exit 0 unless the file is
/// still being sent (75).
@Suite struct MarkLoopbackTests {
    let fixture: RouteFixture
    var spool: Spool { fixture.spool }
    let name = MessageName(base: "\(Timestamp.now().seconds).M1P1Q1.test.R1")

    init() throws {
        fixture = try RouteFixture(rules: "^loopback$ loopback\n")
    }

    /// The message as sent (and as the loopback copy brings it back).
    func message(_ name: MessageName, domain: String = "example.org") -> String {
        """
        From: team@example.org
        To: s@example.org
        Subject: Term dates
        Message-ID: \(MessageID.make(for: name, domain: domain))

        Hello.

        """
    }

    /// Puts the message into `queue`'s `folder` under `fileName` (default: the name with `:2,L`).
    @discardableResult
    func place(
        _ queue: Spool.Queue = .sent, _ folder: Maildir.Folder = .cur, fileName: String? = nil
    ) throws -> String {
        let text = "X-Postroom-Envelope-To: s@example.org\n" + message(name)
        let path = "\(spool.maildir(queue).path(of: folder))/\(fileName ?? name.adding("L").fileName)"
        try Files.write(path, text)
        return path
    }

    func mark(_ input: String, config: String? = nil) throws -> ProcessResult {
        try Run.program(
            "mark", ["--loopback", "--spool", spool.root, "--config", config ?? fixture.config],
            input: Array(input.utf8), environment: ["SENDER": "bounces@example.org"])
    }

    var sent: [String] { Files.list(spool.maildir(.sent).path(of: .cur)) }

    @Test func aReturningCopyFlagsItsSentFileConfirmedOnce() throws {
        try place()
        let first = try mark(message(name))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(sent == ["\(name.base):2,CL"])
        let log = try fixture.log()
        #expect(log.contains("mark["))
        #expect(log.contains("\(name.base): to=<s@example.org>, delay="))
        #expect(log.contains(", status=confirmed (loopback after "))

        // The MTA delivering the copy twice changes nothing.
        let again = try mark(message(name))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(sent == ["\(name.base):2,CL"])
        #expect(try fixture.log().contains("\(name.base): status=confirmed (already confirmed"))
    }

    @Test func aFileWithOtherFlagsIsFoundByReadingTheDirectory() throws {
        // A bounce already recorded (B) puts the name outside the ones tried first.
        try place(fileName: name.adding("L").adding("B").fileName)
        let result = try mark(message(name))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(sent == ["\(name.base):2,BCL"])
    }

    @Test func copiesOfNoMessageOfOursAreLoggedAndLeft() throws {
        try place()
        let gone = MessageName(base: "\(Timestamp.now().seconds).M9P9Q9.test.R1")
        let foreign = message(name).replacingOccurrences(
            of: MessageID.make(for: name, domain: "example.org"), with: "<CAF+x7y=abc@mail.gmail.com>")
        try fixture.configure("message_id_domain = example.org\n")
        let cases = [
            (message(gone), "\(gone.base): status=ignored (loopback copy, but the message is no longer in the spool)"),
            (foreign, "message_id=<CAF+x7y=abc@mail.gmail.com>, status=ignored (loopback copy of no message of ours"),
            (message(name, domain: "elsewhere.example"), "its Message-ID is not in message_id_domain example.org"),
            (message(name).replacingOccurrences(of: "Message-ID", with: "X-Other"), "it has no Message-ID"),
        ]
        for (input, logged) in cases {
            let result = try mark(input)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try fixture.log().contains(logged), "\(logged)")
        }
        #expect(sent == ["\(name.base):2,L"])
    }

    @Test func aCopyOfAMessageStillBeingSentWaitsForDeliverToFinish() throws {
        let path = try place(.outgoing, .cur, fileName: name.withInfo().fileName)
        // A running deliver holds its claim with flock(2) on the file.
        let fd = open(path, O_RDONLY | O_CLOEXEC)  // no program another test starts keeps the lock
        #expect(flock(fd, LOCK_EX) == 0)
        let early = try mark(message(name))
        #expect(early.status == 75, "\(early.stderr)")
        #expect(early.stderr.contains("still being sent"))
        let routed = try fixture.route(message(name), recipient: "loopback", sender: "bounces@example.org")
        #expect(routed.status == 75, "\(routed.stderr)")
        #expect(try fixture.log().contains("\(name.base): status=early"))

        // Deliver renames it into sent/ with L and lets go: the MTA's retry confirms it.
        try Files.move(path, "\(spool.maildir(.sent).path(of: .cur))/\(name.adding("L").fileName)")
        close(fd)
        let retried = try mark(message(name))
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(sent == ["\(name.base):2,CL"])
    }

    @Test func aCopyOfAMessageNotInSentIsLoggedAndLeft() throws {
        for (queue, folder, expected) in [
            (Spool.Queue.outgoing, Maildir.Folder.cur, "in outgoing/, not sent yet"),
            (.deferred, .new, "in deferred/"), (.failed, .cur, "in failed/"),
        ] {
            let path = try place(queue, folder, fileName: name.withInfo().fileName)
            let result = try mark(message(name))
            #expect(result.status == 0, "\(queue): \(result.stderr)")
            #expect(
                try fixture.log().contains(
                    "\(name.base): status=ignored (loopback copy, but the message is \(expected)"))
            #expect(FileManager.default.fileExists(atPath: path))
            try Files.remove(path)
        }
    }

    @Test func routesLoopbackHandlerConfirmsAsMarkDoes() throws {
        try place()
        let explained = try fixture.route("", recipient: nil, sender: nil, ["--explain", "loopback"])
        #expect(explained.status == 0, "\(explained.stderr)")
        #expect(explained.stdout.contains("<loopback>: line 1: loopback copy of no message of ours"))
        let routed = try fixture.route(message(name), recipient: "loopback", sender: "bounces@example.org")
        #expect(routed.status == 0, "\(routed.stderr)")
        #expect(sent == ["\(name.base):2,CL"])
        #expect(try fixture.log().contains("route["))
        #expect(try fixture.log().contains(", status=confirmed (loopback after "))
        #expect(fixture.outgoing.isEmpty)
    }

    @Test func statusListsWhatIsUnconfirmedUntilTheCopyComesBack() throws {
        try place()
        let arguments = ["status", "--spool", spool.root, "--config", fixture.config, "--unconfirmed-after"]
        let before = try Run.program("postroom", arguments + ["0s"])
        #expect(before.status == 0, "\(before.stderr)")
        #expect(before.stdout.contains("unconfirmed after 0s: 1 sent message whose loopback copy has not come back"))
        #expect(before.stdout.contains("  \(name.base):2,L  sent "))
        #expect(try Run.program("postroom", arguments + ["1h"]).stdout.contains("unconfirmed after 1h00m: 0 sent"))
        #expect(try mark(message(name)).status == 0)
        let after = try Run.program("postroom", arguments + ["0s", "--json"])
        #expect(after.stdout.contains("\"unconfirmed\": {\"after_seconds\": 0, \"count\": 0, \"messages\": []}"))
        let wrong = try Run.program("postroom", arguments + ["soon"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("\"soon\" is not a duration"))
    }

    @Test func inputThatIsNoMessageIsRefused() throws {
        let result = try mark("this is not a message\u{0}\n")
        #expect(result.status == 65, "\(result.stderr)")
    }
}
