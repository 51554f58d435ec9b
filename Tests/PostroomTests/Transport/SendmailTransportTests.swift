import Foundation
import Postroom
import TestSupport
import Testing

/// `SendmailTransport` with small scripts standing in for sendmail.
@Suite struct SendmailTransportTests {
    let directory = TemporaryDirectory()

    func program(_ body: String) throws -> SendmailTransport {
        let path = directory.file("sendmail")
        try Files.write(path, "#!/bin/sh\n" + body)
        chmod(path, 0o755)
        return try SendmailTransport(program: path)
    }

    func envelope() throws -> Envelope { try Envelope(sender: "team@example.org", recipients: ["s@example.org"]) }

    @Test func aProgramKilledByASignalDefers() throws {
        let sendmail = try program("cat > /dev/null\nkill -9 $$\n")
        let outcome = sendmail.deliver(Array("Subject: x\n\nbody\n".utf8), envelope: try envelope())
        guard case .deferred(let reply, _, let connectionFailed) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(reply == "451 4.3.0 killed by signal 9")
        #expect(!connectionFailed)
    }

    @Test func exitStatusesReadLikeReplies() throws {
        let message = Array("Subject: x\n\nbody\n".utf8)
        #expect(try program("cat > /dev/null\nexit 0\n").deliver(message, envelope: try envelope()).isSent)
        guard
            case .deferred(let reply, _, _) = try program("cat > /dev/null\necho busy >&2\nexit 75\n").deliver(
                message, envelope: try envelope())
        else {
            Issue.record("75 did not defer")
            return
        }
        #expect(reply == "451 4.3.0 exit status 75: busy")
        guard
            case .failed(let failure, _) = try program("cat > /dev/null\necho no such user >&2\nexit 67\n").deliver(
                message, envelope: try envelope())
        else {
            Issue.record("67 did not fail")
            return
        }
        #expect(failure == "550 5.3.0 exit status 67: no such user")
    }

    @Test func aProgramThatWritesMuchBeforeReadingIsNotADeadlock() throws {
        // Both sides overflow a pipe (64 KiB): the program's chatter before it reads, and the message.
        let copy = directory.file("received")
        let sendmail = try program("head -c 300000 /dev/zero | tr '\\0' x >&2\ncat > '\(copy)'\n")
        let message = Array(("Subject: big\n\n" + String(repeating: "0123456789\n", count: 30_000)).utf8)
        let outcome = sendmail.deliver(message, envelope: try envelope())
        #expect(outcome.isSent, "\(outcome)")
        #expect(try Files.read(copy) == message)
    }
}

extension DeliveryOutcome {
    fileprivate var isSent: Bool {
        if case .sent = self { true } else { false }
    }
}
