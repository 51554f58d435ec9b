import Foundation
import Postroom
import TestSupport
import Testing

/// `deliver --dkim-canonicalization` and the `dkim_canonicalization` key, and signing what a
/// relay without 8BITMIME really receives; dkimpy checks each (DKIMSigningTests has the helpers).
extension DKIMSigningTests {
    static let modes = ["relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple"]

    /// Each combination verifies; one changed byte of the body or of a signed field fails it.
    @Test(arguments: modes) func eachCanonicalizationVerifiesAndOneChangedByteFails(mode: String) throws {
        let keys = try makeKeys()
        let spool = try directory.spool()
        for key in ["eightbit", "folded"] {
            try spool.maildir(.outgoing).add(
                Array((Self.corpus[key] ?? "").utf8), as: MessageName(base: "1700000000.M1P1Q1.\(key)"))
        }
        let mailbox = directory.file("mailbox")
        let result = try Run.program(
            "deliver",
            ["--spool", spool.root, "--maildir", mailbox, "--dkim-canonicalization", mode] + keys.flags)
        #expect(result.status == 0, "\(result.stderr)")
        let files = Files.list(mailbox + "/new")
        #expect(files.count == 2)
        for file in files {
            let path = mailbox + "/new/" + file
            let original = try Files.text(path)
            #expect(original.components(separatedBy: "c=\(mode);").count == 3)
            let verdict = try verify(path, keys)
            #expect(verdict.status == 0, "\(mode) \(file): \(verdict.stdout)\(verdict.stderr)")
            #expect(verdict.stdout.components(separatedBy: ": pass a=").count == 3, "\(verdict.stdout)")
            for (from, to) in [("Subject: ", "Subject: X"), ("\n\n", "\n\nX")] {
                let range = try #require(original.range(of: from))
                let changed = directory.file("changed.eml")
                try Files.write(changed, original.replacingCharacters(in: range, with: to))
                let refused = try verify(changed, keys)
                #expect(refused.status == 1, "\(mode) \(to): \(refused.stdout)")
                #expect(!refused.stdout.contains("pass"))
            }
        }
    }

    /// Under `simple` a space added at the end of a body line breaks the signature; under
    /// `relaxed` it does not: the option really changes what is signed.
    @Test func simpleBodyCanonicalizationCoversTrailingSpace() throws {
        let keys = try makeKeys()
        let message = directory.file("m.eml")
        try Files.write(message, "From: team@example.org\nTo: b@example.net\nSubject: x\n\nhello\n")
        for (index, (mode, survives)) in [("relaxed/relaxed", true), ("relaxed/simple", false)].enumerated() {
            let config = directory.file("postroom.conf")
            try Files.write(config, "dkim_canonicalization = \(mode)\n")
            let spool = try directory.spool()
            try spool.maildir(.outgoing).add(
                Array(try Files.read(message)), as: MessageName(base: "1700000000.M\(index)P1Q1.simple"))
            let mailbox = directory.file("mailbox-\(mode.replacingOccurrences(of: "/", with: "-"))")
            let result = try Run.program(
                "deliver", ["--spool", spool.root, "--maildir", mailbox] + keys.flags,
                environment: ["POSTROOM_CONFIG": config])
            #expect(result.status == 0, "\(result.stderr)")
            let path = mailbox + "/new/" + (try #require(Files.list(mailbox + "/new").first))
            #expect(try Files.text(path).contains("c=\(mode);"))
            let changed = directory.file("changed.eml")
            try Files.write(changed, try Files.text(path).replacingOccurrences(of: "hello\n", with: "hello \n"))
            #expect(try verify(changed, keys).status == (survives ? 0 : 1), "\(mode)")
        }
    }

    /// A bad value: a usage error from the command line (64), a configuration error from the file (78).
    @Test func aBadCanonicalizationIsRefusedBeforeAnythingIsSent() throws {
        let keys = try makeKeys()
        let spool = try directory.spool()
        let mailbox = directory.file("mailbox")
        let flag = try Run.program(
            "deliver",
            ["--spool", spool.root, "--maildir", mailbox, "--dkim-canonicalization", "relaxed"] + keys.flags)
        #expect(flag.status == 64)
        #expect(flag.stderr.contains("--dkim-canonicalization \"relaxed\" is not HEADER/BODY"), "\(flag.stderr)")
        let config = directory.file("postroom.conf")
        try Files.write(config, "dkim_canonicalization = loose/simple\n")
        let file = try Run.program(
            "deliver", ["--spool", spool.root, "--maildir", mailbox] + keys.flags,
            environment: ["POSTROOM_CONFIG": config])
        #expect(file.status == 78)
        #expect(file.stderr.contains("dkim_canonicalization \"loose/simple\""), "\(file.stderr)")
    }

    /// A relay without 8BITMIME gets the 8-bit body made 7-bit: the signatures cover those
    /// bytes, not the 8-bit form in the spool.
    @Test func signaturesCoverTheSevenBitFormARelayWithoutEightBitMIMEGets() throws {
        let keys = try makeKeys()
        let spool = try directory.spool()
        try spool.maildir(.outgoing).add(
            Array((Self.corpus["eightbit"] ?? "").utf8), as: MessageName(base: "1700000000.M1P1Q1.seven"))
        let server = try SMTPTestServer(.seven)
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"] + keys.flags)
        #expect(result.stdout == "sent 1, deferred 0, failed 0\n", "\(result.stderr)")
        let received = try server.messages()
        try #require(received.count == 1)
        #expect(!received[0].utf8.contains { $0 >= 128 })
        #expect(!received[0].contains("Content-Transfer-Encoding: 8bit"))
        #expect(received[0].components(separatedBy: "DKIM-Signature:").count == 3)
        let path = directory.file("received.eml")
        try Files.write(path, received[0])
        let verdict = try verify(path, keys)
        #expect(verdict.status == 0, "\(verdict.stdout)\(verdict.stderr)")
        #expect(verdict.stdout.components(separatedBy: ": pass a=").count == 3, "\(verdict.stdout)")
    }
}
