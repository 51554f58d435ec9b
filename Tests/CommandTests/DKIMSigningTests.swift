import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// `deliver --dkim`: what it sends is checked by an independent verifier, dkimpy (python3-dkim),
/// given the public keys as its DNS answers (Tests/Scripts/dkim_verify.py).
@Suite struct DKIMSigningTests {
    let directory = TemporaryDirectory()
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// An Ed25519 and an RSA-2048 key for example.org, made by openssl as the README says.
    struct Keys {
        var flags: [String] = []
        var records: [String] = []
    }

    func makeKeys(domain: String = "example.org") throws -> Keys {
        var keys = Keys()
        for (selector, options) in [
            ("ed", ["-algorithm", "ed25519"]), ("rs", ["-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048"]),
        ] {
            let path = directory.file("\(selector).key")
            let made = try Run.program("/usr/bin/openssl", ["genpkey"] + options + ["-out", path])
            try #require(made.status == 0, "\(made.stderr)")
            chmod(path, 0o600)
            let der = try Files.read(try writePublicDER(path))
            let value = selector == "ed" ? Base64.encode(der.suffix(32)) : Base64.encode(der)
            keys.flags += ["--dkim", "\(domain):\(selector):\(path)"]
            keys.records.append(
                "\(selector)._domainkey.\(domain)=v=DKIM1; k=\(selector == "ed" ? "ed25519" : "rsa"); p=\(value)")
        }
        return keys
    }

    /// The public key in DER, in a file (openssl's binary output does not survive a String).
    private func writePublicDER(_ keyPath: String) throws -> String {
        let out = keyPath + ".pub.der"
        let result = try Run.program(
            "/usr/bin/openssl", ["pkey", "-in", keyPath, "-pubout", "-outform", "DER", "-out", out])
        try #require(result.status == 0, "\(result.stderr)")
        return out
    }

    /// dkimpy's verdict on the message in `path`: one `pass`/`fail` line per signature.
    func verify(_ path: String, _ keys: Keys) throws -> ProcessResult {
        try Run.program(
            "/usr/bin/python3",
            [Self.root.appendingPathComponent("Tests/Scripts/dkim_verify.py").path, path] + keys.records)
    }

    /// Messages of every shape the acceptance names, besides rendered bulk mail.
    static let corpus: [String: String] = [
        "eightbit": """
        From: =?utf-8?q?=C3=89quipe?= <team@example.org>
        To: parent@example.net
        Bcc: parent@example.net
        Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
        Message-ID: <eightbit@example.org>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit
        X-Postroom-Request: r1

        Grüße an alle élèves   \t
        .a line starting with a dot

          indented, trailing spaces   



        """,
        "folded": """
        From: "A very long display name that goes on and on" <team@example.org>
        To: parent@example.net
        Cc: "Someone Else" <someone@example.net>,
         "Another Person With A Long Name" <another.person.with.a.long.address@example.net>,
        \t"Third" <third@example.net>
        Subject: A subject long enough to be folded over more than one line, as a newsletter
         subject often is when it names the programme, the date and the place
        \tin one breath
        Date: Wed, 02 Dec 2026 03:00:00 +0000
        Message-ID: <folded@example.org>
        List-Unsubscribe: <https://example.org/unsubscribe/abcdefghijklmnopqrstuvwxyz0123456789>,
         <mailto:unsubscribe@example.org?subject=abcdefghijklmnopqrstuvwxyz>
        List-Unsubscribe-Post: List-Unsubscribe=One-Click
        X-Postroom-Envelope-To: parent%40example.net

        Short body.
        """,
        // What route writes for a list member: the poster's trace and signature kept, From
        // rewritten to the list's domain, List-* fields added.
        "listcopy": """
        Received: from mx.example.net by mx.example.org; Wed, 02 Dec 2026 02:59:00 +0000
        DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=x; h=from; bh=AAAA; b=AAAA
        From: "Poster via Parents" <parents@example.org>
        Reply-To: poster@example.net
        To: parents@example.org
        Subject: [parents] Bake sale
        List-Id: <parents.example.org>
        List-Post: <mailto:parents@example.org>
        Message-ID: <post1@example.net>
        X-Postroom-Envelope-To: member%40example.net

        Who brings cake?
        """,
    ]

    /// A spool with bulk mail rendered from examples/welcome.eml, the corpus and a failure report in outgoing/.
    func spoolWithCorpus() throws -> Spool {
        let spool = try directory.spool()
        let csv = directory.file("students.csv")
        try Files.write(
            csv,
            "email,first_name,last_name,username,grade,school,guardian_name,guardian_email\n"
                + "s1@example.edu,Mei,Papadopoulou,s1,9,Roosevelt Academy,Ana,g1@example.edu\n"
                + "s2@example.edu,Ivan,太郎,s2,12,Roosevelt Academy,,\n")
        let environment = ["POSTROOM_SPOOL": spool.root]
        let submitted = try Run.program(
            "postroom",
            ["submit", "--recipients", csv, "--send-to", "self,guardian", "--var", "program.niceName=Splash 2026"],
            input: try Files.read(Self.root.appendingPathComponent("examples/welcome.eml").path),
            environment: environment)
        try #require(submitted.status == 0, "\(submitted.stderr)")
        for stage in ["expand", "render"] {
            let result = try Run.program(stage, [], environment: environment)
            try #require(result.status == 0, "\(result.stderr)")
        }
        try #require(Files.list(spool.maildir(.outgoing).path(of: .new)).count == 3)
        for (index, (_, text)) in Self.corpus.sorted(by: { $0.key < $1.key }).enumerated() {
            let name = MessageName(base: "1700000000.M\(index)P1Q\(index).dkim")
            try spool.maildir(.outgoing).add(Array(text.utf8), as: name)
        }
        // A failure report, as deliver --failure-reports queues it (From MAILER-DAEMON@ the host).
        let failed = try Message(parsing: Array((Self.corpus["folded"] ?? "").utf8))
        let reportName = MessageName(base: "1700000000.M9P1Q9.dkim")
        let report = try #require(
            try FailureReport.make(
                original: failed,
                envelope: try Envelope(sender: "team@example.org", recipients: ["parent@example.net"]),
                reply: "550 5.1.1 no such user", relay: "mx.example.net[192.0.2.1]:25",
                reportingHost: "mail.example.org", name: reportName, arrival: 1_700_000_000, now: 1_700_000_100))
        try spool.maildir(.outgoing).add(report.bytes, as: reportName)
        return spool
    }

    @Test func everyMessageDeliveredIntoAMaildirVerifiesForBothAlgorithms() throws {
        let keys = try makeKeys()
        let spool = try spoolWithCorpus()
        let mailbox = directory.file("mailbox")
        let result = try Run.program("deliver", ["--spool", spool.root, "--maildir", mailbox] + keys.flags)
        #expect(result.status == 0, "\(result.stderr)")
        let delivered = Files.list(mailbox + "/new")
        #expect(delivered.count == 4 + Self.corpus.count)
        for file in delivered {
            let path = mailbox + "/new/" + file
            let verdict = try verify(path, keys)
            #expect(verdict.status == 0, "\(file): \(verdict.stdout)\(verdict.stderr)")
            #expect(verdict.stdout.components(separatedBy: ": pass a=").count == 3, "\(verdict.stdout)")
            #expect(verdict.stdout.contains("d=example.org s=ed") && verdict.stdout.contains("d=example.org s=rs"))
            let text = try Files.text(path)
            #expect(!text.contains("X-Postroom-") && !text.contains("Bcc:"))
        }
    }

    /// One changed byte of the body, or of a signed field, and dkimpy refuses both signatures.
    @Test func oneChangedByteFailsVerification() throws {
        let keys = try makeKeys()
        let spool = try spoolWithCorpus()
        let mailbox = directory.file("mailbox")
        #expect(try Run.program("deliver", ["--spool", spool.root, "--maildir", mailbox] + keys.flags).status == 0)
        let files = Files.list(mailbox + "/new")
        let path = mailbox + "/new/" + (try #require(files.first))
        let original = try Files.text(path)
        #expect(try verify(path, keys).status == 0)
        let changes: [(String, String)] = [("Subject: ", "Subject:  X"), ("\n\n", "\n\nX")]
        for (from, to) in changes {
            let range = try #require(original.range(of: from))
            let changed = directory.file("changed.eml")
            try Files.write(changed, original.replacingCharacters(in: range, with: to))
            let verdict = try verify(changed, keys)
            #expect(verdict.status == 1, "\(to): \(verdict.stdout)")
            #expect(!verdict.stdout.contains("pass"))
        }
    }

    /// OpenDKIM's opendkim-testmsg, a second verifier, for rsa-sha256 (Tests/Scripts/opendkim_verify.sh
    /// gives it the key through a DNS server in its own network namespace).
    @Test func openDKIMVerifiesRSASignatures() throws {
        let keys = try makeKeys()
        let spool = try spoolWithCorpus()
        // The list copy carries a poster's signature no key is given for: opendkim would count it.
        // opendkim-testmsg refuses the 8-bit message even unsigned ("dkim_chunk(): Syntax error",
        // its own parser); dkimpy checks that one.
        let outgoing = spool.maildir(.outgoing).path(of: .new)
        for file in Files.list(outgoing) where file.contains("M2P1Q2.dkim") || file.contains("M0P1Q0.dkim") {
            try Files.remove(outgoing + "/" + file)
        }
        let mailbox = directory.file("mailbox")
        let rsaOnly = Array(keys.flags.suffix(2))
        #expect(try Run.program("deliver", ["--spool", spool.root, "--maildir", mailbox] + rsaOnly).status == 0)
        let script = Self.root.appendingPathComponent("Tests/Scripts/opendkim_verify.sh").path
        let files = Files.list(mailbox + "/new")
        #expect(files.count == 4 + Self.corpus.count - 2)
        for file in files {
            let path = mailbox + "/new/" + file
            let verdict = try Run.program(script, [path, keys.records[1]])
            #expect(verdict.status == 0, "\(file): \(verdict.stderr)")
            let changed = directory.file("changed.eml")
            try Files.write(changed, try Files.text(path).replacingOccurrences(of: "Subject: ", with: "Subject: X"))
            #expect(try Run.program(script, [changed, keys.records[1]]).status != 0)
        }
    }

    /// Through a real Exim, which adds Received and the like: still verifies on arrival.
    @Test func signedMailStillVerifiesAfterExim() throws {
        let keys = try makeKeys()
        let exim = try EximTestServer()
        let spool = try directory.spool()
        for (index, key) in ["eightbit", "folded"].enumerated() {
            let text = (Self.corpus[key] ?? "").replacingOccurrences(
                of: "X-Postroom-", with: "X-Postroom-Envelope-To: ada%40school.example\nX-Postroom-Old-")
            try spool.maildir(.outgoing).add(
                Array(text.utf8), as: MessageName(base: "\(Timestamp.now().seconds).M\(index)P1Q\(index).exim"))
        }
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", exim.url, "--tls", "off"] + keys.flags)
        #expect(result.stdout == "sent 2, deferred 0, failed 0\n", "\(result.stderr)")
        let delivered = try exim.delivered(count: 2)
        #expect(delivered.count == 2)
        for (index, text) in delivered.enumerated() {
            #expect(text.contains("Received: from ") && text.contains("by exim.test"))
            let path = directory.file("exim\(index).eml")
            try Files.write(path, text)
            let verdict = try verify(path, keys)
            #expect(verdict.status == 0, "\(verdict.stdout)\(verdict.stderr)")
            #expect(verdict.stdout.components(separatedBy: ": pass a=").count == 3, "\(verdict.stdout)")
        }
    }

    @Test func messagesSentOverSMTPVerify() throws {
        let keys = try makeKeys()
        let spool = try spoolWithCorpus()
        let server = try SMTPTestServer(.accept)
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"] + keys.flags)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try server.messages()
        #expect(received.count == 4 + Self.corpus.count)
        for (index, text) in received.enumerated() {
            let path = directory.file("received\(index).eml")
            try Files.write(path, text)
            let verdict = try verify(path, keys)
            #expect(verdict.status == 0, "\(verdict.stdout)\(verdict.stderr)")
        }
    }

    @Test func keysFromTheConfigurationSignAndDryRunShowsTheSignature() throws {
        let keys = try makeKeys()
        let config = directory.file("postroom.conf")
        let names = stride(from: 1, to: keys.flags.count, by: 2).map { keys.flags[$0] }
        try Files.write(config, "dkim = \(names.joined(separator: ", "))\n")
        let message = directory.file("m.eml")
        try Files.write(message, Self.corpus["folded"] ?? "")
        let result = try Run.program("deliver", ["--dry-run", message], environment: ["POSTROOM_CONFIG": config])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.components(separatedBy: "DKIM-Signature: v=1; a=").count == 3)
        #expect(result.stdout.contains("a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=ed;"))
        // Each signed name once more than it occurs.
        #expect(
            result.stdout.replacingOccurrences(of: "\r\n\t", with: "").contains(
                "Cc:Cc:Subject:Subject:Date:Date:Message-ID:Message-ID:MIME-Version:"))
    }

    @Test func aFromDomainWithoutAKeyIsSentUnsignedWithOneWarningPerPass() throws {
        let keys = try makeKeys(domain: "example.com")
        let spool = try directory.spool()
        for index in 1...2 {
            try spool.maildir(.outgoing).add(
                Array("From: a@example.org\nTo: b\(index)@example.net\nSubject: x\n\nhi\n".utf8),
                as: MessageName(base: "1700000000.M\(index)P1Q\(index).dkim"))
        }
        let mailbox = directory.file("mailbox")
        let result = try Run.program("deliver", ["--spool", spool.root, "--maildir", mailbox] + keys.flags)
        #expect(result.status == 0, "\(result.stderr)")
        for file in Files.list(mailbox + "/new") {
            #expect(try !Files.text(mailbox + "/new/" + file).contains("DKIM-Signature"))
        }
        let warnings = try Files.text(spool.logPath).components(
            separatedBy: "no DKIM key for the From domain example.org")
        #expect(warnings.count == 2)
    }

    /// A key file others can read, one that does not parse, an RSA key under 2048 bits, a key for
    /// a public suffix: exit 78, nothing sent.
    @Test func badKeysStopDeliverBeforeAnythingIsSent() throws {
        let spool = try directory.spool()
        try spool.maildir(.outgoing).add(
            Array("From: a@example.org\nTo: b@example.net\nSubject: x\n\nhi\n".utf8),
            as: MessageName(base: "1700000000.M1P1Q1.dkim"))
        let open = directory.file("open.key")
        #expect(try Run.program("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", open]).status == 0)
        chmod(open, 0o644)
        let garbage = directory.file("garbage.key")
        try Files.write(garbage, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        chmod(garbage, 0o600)
        let small = directory.file("small.key")
        let made = try Run.program(
            "/usr/bin/openssl", ["genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:1024", "-out", small])
        #expect(made.status == 0)
        chmod(small, 0o600)
        let mailbox = directory.file("mailbox")
        let good = directory.file("good.key")
        #expect(try Run.program("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", good]).status == 0)
        chmod(good, 0o600)
        for (domain, key, reason) in [
            ("example.org", open, "chmod 600"), ("example.org", garbage, "not an RSA or Ed25519"),
            ("example.org", small, "1024 bits"), ("co.uk", good, "co.uk is a public suffix"),
        ] {
            let result = try Run.program(
                "deliver", ["--spool", spool.root, "--maildir", mailbox, "--dkim", "\(domain):s:\(key)"])
            #expect(result.status == 78)
            #expect(result.stderr.contains(reason), "\(result.stderr)")
            #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).count == 1)
        }
        #expect(Files.list(mailbox + "/new").isEmpty)
    }
}
