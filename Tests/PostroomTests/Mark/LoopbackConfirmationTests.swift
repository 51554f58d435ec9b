import Foundation
import Postroom
import TestSupport
import Testing

/// `LoopbackConfirmation` and `SentFile`: which copies are ours, where their files are, and
/// flag `C` added by one rename.
@Suite struct LoopbackConfirmationTests {
    let directory = TemporaryDirectory()
    let name = MessageName(base: "1764640000.M12P34Q5.mail.example.org.R7")

    func copy(_ messageID: String?) throws -> IncomingMessage {
        let field = messageID.map { "Message-ID: \($0)\n" } ?? ""
        let text = "From: team@example.org\nTo: s@example.org\n\(field)Subject: Hi\n\nHello.\n"
        return try IncomingMessage(
            bytes: Array(text.utf8), recipient: "loopback@example.org", sender: "bounces@example.org", limits: .none)
    }

    func confirmation(_ messageID: String?, config: String = "") throws -> LoopbackConfirmation {
        try LoopbackConfirmation(message: try copy(messageID), configuration: try Configuration(text: config))
    }

    @Test func theMessageIDNamesTheSpoolFile() throws {
        let ours = try confirmation(MessageID.make(for: name, domain: "example.org"))
        #expect(ours.name == name)
        #expect(ours.summary == "loopback copy of \(name.base): flag C on it in sent/cur")
        // A byte escaped in the Message-ID (a space is `=20`) comes back unescaped.
        let odd = MessageName(base: "1764640000.M1P2Q3.my host")
        #expect(try confirmation(MessageID.make(for: odd, domain: "example.org")).name == odd)
    }

    @Test func messageIDsThatAreNotOursNameNothing() throws {
        for id in [nil, "no brackets", "<CAF+abc=x@mail.gmail.com>", "<explain@localhost>", "<@example.org>"] {
            let foreign = try confirmation(id)
            #expect(foreign.name == nil, "\(id ?? "none")")
            #expect(foreign.summary.hasPrefix("loopback copy of no message of ours"))
        }
        let configured = "message_id_domain = Example.ORG\n"
        let id = MessageID.make(for: name, domain: "example.org")
        #expect(try confirmation(id, config: configured).name == name)
        #expect(try confirmation(MessageID.make(for: name, domain: "other.example"), config: configured).name == nil)
    }

    @Test func aFileIsFoundInEveryQueueItCanBeIn() throws {
        let spool = try directory.spool()
        let likely = ["L", ""]
        #expect(try SentFile.locate(name.base, in: spool, likelyFlags: likely) == .gone)
        let places: [(Spool.Queue, Maildir.Folder, MessageName, SentFile.Place)] = [
            (.sent, .cur, name.adding("L"), .sent(name.adding("L"))),
            (.sent, .cur, name.adding("W").adding("L"), .sent(name.adding("W").adding("L"))),
            (.sent, .cur, name.withInfo(), .sent(name.withInfo())),
            (.outgoing, .cur, name.withInfo(), .outgoing(claimed: false)),
            (.outgoing, .new, name, .outgoing(claimed: false)),
            (.deferred, .new, name, .queue(.deferred)),
            (.failed, .cur, name.withInfo(), .queue(.failed)),
            (.held, .new, name, .queue(.held)),
        ]
        for (queue, folder, fileName, expected) in places {
            let path = spool.maildir(queue).path(of: fileName, in: folder)
            try Files.write(path, "Subject: x\n\nx\n")
            #expect(try SentFile.locate(name.base, in: spool, likelyFlags: likely) == expected, "\(path)")
            try Files.remove(path)
        }
        // Another message whose name starts with this one's is not this one.
        try Files.write(spool.maildir(.sent).path(of: MessageName(base: name.base + "1", flags: "L"), in: .cur), "x")
        #expect(try SentFile.locate(name.base, in: spool, likelyFlags: likely) == .gone)
    }

    @Test func addingAFlagIsOneRenameAndIdempotent() throws {
        let spool = try directory.spool()
        let path = spool.maildir(.sent).path(of: name.adding("L"), in: .cur)
        try Files.write(path, "Subject: x\n\nx\n")
        let inode = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        let change = try SentFile.addFlag("C", to: name.base, in: spool, likelyFlags: ["L"])
        guard case .added(let from, let to, let sentAt) = change else {
            Issue.record("\(change)")
            return
        }
        #expect(from == name.adding("L"))
        #expect(to == name.adding("L").adding("C"))
        #expect(sentAt > 0 && sentAt <= Timestamp.now().interval)
        let flagged = spool.maildir(.sent).path(of: to, in: .cur)
        #expect(try FileManager.default.attributesOfItem(atPath: flagged)[.systemFileNumber] as? Int == inode)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == [to.fileName])
        #expect(try SentFile.addFlag("C", to: name.base, in: spool, likelyFlags: ["L"]) == .alreadySet(to))
        #expect(try SentFile.addFlag("C", to: "1.M1P1Q1.gone", in: spool, likelyFlags: ["L"]) == .notSent(.gone))
    }
}
