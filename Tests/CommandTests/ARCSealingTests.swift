import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// `deliver` seals list copies that ask for it (RFC 8617); dkimpy's ARC validator
/// (python3-dkim, Tests/Scripts/arc_verify.py), given the public keys as its DNS answers, checks them.
@Suite struct ARCSealingTests {
    let directory = TemporaryDirectory()
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A key made by openssl: its `--dkim` value, its TXT record for the verifier, its file.
    struct Key {
        var flag: String
        var record: String
        var path: String
    }

    func makeKey(domain: String, selector: String, ed25519: Bool = false) throws -> Key {
        let path = directory.file("\(selector).\(domain).key")
        let options = ed25519 ? ["-algorithm", "ed25519"] : ["-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048"]
        let made = try Run.program("/usr/bin/openssl", ["genpkey"] + options + ["-out", path])
        try #require(made.status == 0, "\(made.stderr)")
        chmod(path, 0o600)
        let der = path + ".pub.der"
        let exported = try Run.program(
            "/usr/bin/openssl", ["pkey", "-in", path, "-pubout", "-outform", "DER", "-out", der])
        try #require(exported.status == 0, "\(exported.stderr)")
        let bytes = try Files.read(der)
        let value = ed25519 ? Base64.encode(bytes.suffix(32)) : Base64.encode(bytes)
        return Key(
            flag: "\(domain):\(selector):\(path)",
            record: "\(selector)._domainkey.\(domain)=v=DKIM1; k=\(ed25519 ? "ed25519" : "rsa"); p=\(value)",
            path: path)
    }

    func script(_ name: String) -> String { Self.root.appendingPathComponent("Tests/Scripts/\(name)").path }

    /// dkimpy's verdict on the chain of the message in `path`.
    func verifyChain(_ path: String, _ keys: [Key]) throws -> ProcessResult {
        try Run.program("/usr/bin/python3", [script("arc_verify.py"), path] + keys.map(\.record))
    }

    static let results = "lists.example.org; dkim=pass header.d=example.net header.s=x header.b=AbCd; arc=none"

    /// A list copy as route writes it, with the control fields that ask for the seal.
    static func listCopy(
        member: String = "member@example.net", seal: String = "lists.example.org 1 none", results: String = results,
        above: String = ""
    ) -> String {
        above + """
            Received: from mx.example.net by mx.lists.example.org; Wed, 02 Dec 2026 02:59:00 +0000
            DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=x; h=from; bh=AAAA; b=AAAA
            From: "Poster via Parents" <parents@lists.example.org>
            Reply-To: poster@example.net
            To: parents@lists.example.org
            Subject: [parents] Bake sale
            List-Id: <parents.lists.example.org>
            Message-ID: <post1@example.net>
            Bcc: hidden@example.net
            X-Postroom-Envelope-To: \(ControlHeader.encode(member))
            X-Postroom-ARC-Seal: \(ControlHeader.encode(seal))
            X-Postroom-ARC-Results: \(ControlHeader.encode(results))

            Who brings cake?   \("")
            Grüße, élèves.
            """ + "\n"
    }

    func queue(_ texts: [String]) throws -> Spool {
        let spool = try directory.spool()
        for (index, text) in texts.enumerated() {
            try spool.maildir(.outgoing).add(
                Array(text.utf8), as: MessageName(base: "1700000000.M\(index)P1Q\(index).arc"))
        }
        return spool
    }

    /// Delivers `texts` into a maildir; the delivered files' paths.
    func deliverToMaildir(
        _ texts: [String], keys: [Key], spool given: Spool? = nil
    ) throws -> (paths: [String], log: String) {
        let spool = try given ?? queue(texts)
        let mailbox = directory.file("mailbox")
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--maildir", mailbox] + keys.flatMap { ["--dkim", $0.flag] })
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "sent \(texts.count), deferred 0, failed 0\n", "\(result.stderr)")
        let paths = Files.list(mailbox + "/new").sorted().map { mailbox + "/new/" + $0 }
        return (paths, try Files.text(spool.logPath))
    }

    /// (a) A post with no chain: sealed as i=1, cv=none; the AMS covers the DKIM-Signature deliver added.
    @Test func aPostWithoutAChainIsSealedAsInstanceOne() throws {
        let key = try makeKey(domain: "lists.example.org", selector: "s1")
        let (paths, _) = try deliverToMaildir([Self.listCopy()], keys: [key])
        let path = try #require(paths.first)
        let verdict = try verifyChain(path, [key])
        #expect(verdict.status == 0, "\(verdict.stdout)\(verdict.stderr)")
        #expect(verdict.stdout.hasPrefix("cv=pass instances=1"), "\(verdict.stdout)")
        let text = try Files.text(path)
        #expect(text.contains("\nARC-Seal: i=1; a=rsa-sha256; t="))
        #expect(text.contains("cv=none; d=lists.example.org; s=s1;"))
        let unfolded = text.replacingOccurrences(of: "\n\t", with: "").replacingOccurrences(of: "\n ", with: " ")
        #expect(unfolded.contains("\nARC-Authentication-Results: i=1; \(Self.results)\n"))
        #expect(unfolded.contains("DKIM-Signature:DKIM-Signature; bh="), "the AMS covers both DKIM signatures")
        #expect(!text.contains("X-Postroom-") && !text.contains("Bcc:"))
        // The DKIM signature deliver added still verifies under the seal.
        let dkim = try Run.program("/usr/bin/python3", [script("dkim_verify.py"), path, key.record])
        #expect(dkim.status == 0, "\(dkim.stdout)")
    }

    /// One changed byte of the body or of a signed field, and the chain no longer validates.
    @Test func oneChangedByteBreaksTheChain() throws {
        let key = try makeKey(domain: "lists.example.org", selector: "s1")
        let (paths, _) = try deliverToMaildir([Self.listCopy()], keys: [key])
        let original = try Files.text(try #require(paths.first))
        for (from, to) in [("Subject: [", "Subject: X["), ("cake?", "cakes"), ("arc=none", "arc=pass")] {
            let range = try #require(original.range(of: from))
            let changed = directory.file("changed.eml")
            try Files.write(changed, original.replacingCharacters(in: range, with: to))
            let verdict = try verifyChain(changed, [key])
            #expect(verdict.status == 1, "\(to): \(verdict.stdout)")
            #expect(verdict.stdout.hasPrefix("cv=fail"), "\(to): \(verdict.stdout)")
        }
    }

    /// The incoming post as a forwarder sealed it with dkimpy (i=1), then as route changed it.
    func sealedElsewhere(_ forwarder: Key, chainResult: String) throws -> String {
        let incoming = directory.file("incoming.eml")
        try Files.write(
            incoming,
            "Authentication-Results: fwd.example; dkim=pass header.d=example.net; arc=none\n"
                + "From: poster@example.net\nTo: parents@lists.example.org\nSubject: Bake sale\n"
                + "Message-ID: <post1@example.net>\n\nWho brings cake?\n")
        let signed = try Run.program(
            "/usr/bin/python3", [script("arc_sign.py"), incoming, forwarder.path, "fwd.example", "f1", "fwd.example"])
        try #require(signed.status == 0, "\(signed.stderr)")
        let withChain = signed.stdout.components(separatedBy: "\n\n")[0] + "\n"
        // What the list changes: the poster's i=1 AMS no longer matches, the seals still do.
        let header = withChain.replacingOccurrences(of: "Subject: Bake sale\n", with: "")
            .replacingOccurrences(of: "From: poster@example.net\nTo: parents@lists.example.org\n", with: "")
            .replacingOccurrences(of: "Message-ID: <post1@example.net>\n", with: "")
        return Self.listCopy(
            seal: "lists.example.org 2 \(chainResult)",
            results: "lists.example.org; arc=\(chainResult) smtp.remote-ip=192.0.2.1", above: header)
    }

    /// (b) A post sealed once before (by dkimpy, i=1) is sealed as i=2 with cv=pass.
    @Test func aChainSealedOnceBeforeGetsInstanceTwo() throws {
        let forwarder = try makeKey(domain: "fwd.example", selector: "f1")
        let list = try makeKey(domain: "lists.example.org", selector: "s1")
        let copy = try sealedElsewhere(forwarder, chainResult: "pass")
        let (paths, _) = try deliverToMaildir([copy], keys: [list])
        let path = try #require(paths.first)
        let verdict = try verifyChain(path, [forwarder, list])
        #expect(verdict.status == 0, "\(verdict.stdout)\(verdict.stderr)")
        #expect(verdict.stdout.hasPrefix("cv=pass instances=2"), "\(verdict.stdout)")
        #expect(try Files.text(path).contains("\nARC-Seal: i=2; a=rsa-sha256; t="))
        // Without the forwarder's key the older seal cannot be checked: the chain fails.
        #expect(try verifyChain(path, [list]).status == 1)
        let original = try Files.text(path)
        let changed = directory.file("changed.eml")
        try Files.write(changed, original.replacingOccurrences(of: "cake?", with: "cake!"))
        #expect(try verifyChain(changed, [forwarder, list]).stdout.hasPrefix("cv=fail"))
    }

    /// 5.1.2: with cv=fail the seal covers this set only; dkimpy checks it once the old set is gone.
    @Test func aFailedChainIsSealedOverItsOwnSetOnly() throws {
        let forwarder = try makeKey(domain: "fwd.example", selector: "f1")
        let list = try makeKey(domain: "lists.example.org", selector: "s1")
        let copy = try sealedElsewhere(forwarder, chainResult: "fail")
        let (paths, _) = try deliverToMaildir([copy], keys: [list])
        let text = try Files.text(try #require(paths.first))
        #expect(text.contains("cv=fail; d=lists.example.org; s=s1;"))
        let verdict = try verifyChain(try #require(paths.first), [forwarder, list])
        #expect(verdict.stdout.contains("reported failure, the chain is terminated"), "\(verdict.stdout)")
        // Only the new set left: dkimpy checks seal 2 over it alone (and then misses set 1).
        let lines = text.components(separatedBy: "\n")
        var kept: [String] = []
        var dropping = false
        for line in lines {
            if !line.hasPrefix(" ") && !line.hasPrefix("\t") {
                dropping = line.hasPrefix("ARC-") && line.contains("i=1;")
            }
            if !dropping { kept.append(line) }
        }
        let alone = directory.file("alone.eml")
        try Files.write(alone, kept.joined(separator: "\n"))
        let check = try verifyChain(alone, [list])
        #expect(check.stdout.contains("i=2 ams-valid=True as-valid=True cv=fail"), "\(check.stdout)")
    }

    /// Through SMTP (an aiosmtpd server), the copies that arrive verify too.
    @Test func copiesSentOverSMTPVerify() throws {
        let key = try makeKey(domain: "lists.example.org", selector: "s1")
        let spool = try queue([Self.listCopy(member: "a@example.net"), Self.listCopy(member: "b@example.net")])
        let server = try SMTPTestServer(.accept)
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off", "--dkim", key.flag])
        #expect(result.status == 0, "\(result.stderr)")
        let received = try server.messages()
        #expect(received.count == 2)
        for (index, text) in received.enumerated() {
            let path = directory.file("received\(index).eml")
            try Files.write(path, text)
            let verdict = try verifyChain(path, [key])
            #expect(verdict.status == 0, "\(verdict.stdout)\(verdict.stderr)")
        }
    }

    /// Without a key for the sealing domain, or with fields that cannot be used, copies go out
    /// unsealed, one warning per pass and kind; nothing fails.
    @Test func copiesThatCannotBeSealedGoOutUnsealedWithOneWarning() throws {
        let other = try makeKey(domain: "example.com", selector: "s1")
        let texts = [
            Self.listCopy(member: "a@example.net"), Self.listCopy(member: "b@example.net"),
            Self.listCopy(member: "c@example.net", seal: "lists.example.org 51 pass"),
            Self.listCopy(member: "d@example.net", seal: "lists.example.org 1 maybe"),
            Self.listCopy(member: "e@example.net", seal: "lists.example.org 2 pass"),
        ]
        let (paths, log) = try deliverToMaildir(texts, keys: [other])
        #expect(paths.count == 5)
        for path in paths { #expect(try !Files.text(path).contains("ARC-")) }
        #expect(log.components(separatedBy: "no DKIM key for the ARC sealing domain lists.example.org").count == 2)
        #expect(log.components(separatedBy: "the ARC control fields are unusable").count == 2)
        #expect(log.contains("instance \"51\" is not 1 to 50"))
        #expect(log.components(separatedBy: "ARC request does not fit the message").count == 2)
        #expect(log.contains("sent unsealed"))
    }

    /// A domain with only an Ed25519 key: dkimpy's validator refuses ed25519-sha256 in ARC
    /// ("unknown signature algorithm"), so the copy goes out unsealed, with a warning.
    @Test func anEd25519KeyAloneDoesNotSeal() throws {
        let key = try makeKey(domain: "lists.example.org", selector: "ed", ed25519: true)
        let (paths, log) = try deliverToMaildir([Self.listCopy()], keys: [key])
        let text = try Files.text(try #require(paths.first))
        #expect(!text.contains("ARC-") && text.contains("DKIM-Signature: v=1; a=ed25519-sha256;"))
        #expect(
            log.contains("only an Ed25519 key (ARC seals with RSA) for the ARC sealing domain lists.example.org"))
    }

    /// With both kinds of key, RSA seals.
    @Test func rsaSealsWhenBothKindsAreConfigured() throws {
        let ed = try makeKey(domain: "example.org", selector: "ed", ed25519: true)
        let rsa = try makeKey(domain: "example.org", selector: "rs")
        let (paths, _) = try deliverToMaildir([Self.listCopy()], keys: [ed, rsa])
        let path = try #require(paths.first)
        let text = try Files.text(path)
        #expect(text.contains("\nARC-Seal: i=1; a=rsa-sha256;"))
        #expect(text.contains("d=example.org; s=rs;"), "the closest parent's key seals")
        #expect(try verifyChain(path, [ed, rsa]).status == 0)
    }

    /// --dry-run shows the set a copy would get.
    @Test func dryRunShowsTheSet() throws {
        let key = try makeKey(domain: "lists.example.org", selector: "s1")
        let message = directory.file("copy.eml")
        try Files.write(message, Self.listCopy())
        let result = try Run.program("deliver", ["--dry-run", message, "--dkim", key.flag])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ARC-Seal: i=1; a=rsa-sha256;"), "\(result.stdout)")
        #expect(result.stdout.contains("ARC-Authentication-Results: i=1; lists.example.org;"))
        #expect(result.stderr.isEmpty, "signed and sealed: nothing to warn about")
    }

    /// --dry-run takes a spool name as postroom lint does, looked up in the queues.
    @Test func dryRunFindsAMessageByItsSpoolName() throws {
        let spool = try directory.spool()
        let name = MessageName(base: "1795336174.M9P1Q1.test")
        try spool.maildir(.outgoing).add(Array(Self.listCopy().utf8), as: name)
        let key = try makeKey(domain: "lists.example.org", selector: "s1")
        let result = try Run.program("deliver", ["--dry-run", name.base, "--spool", spool.root, "--dkim", key.flag])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ARC-Seal: i=1; a=rsa-sha256;"), "\(result.stdout)")
        let missing = try Run.program("deliver", ["--dry-run", "1795336174.M8P1Q1.test", "--spool", spool.root])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no message of that name in the spool"), "\(missing.stderr)")
    }

    /// --dry-run says on standard error what deliver would log: a copy left unsigned or unsealed.
    @Test func dryRunWarnsOfWhatWouldGoOutUnsignedOrUnsealed() throws {
        let message = directory.file("copy.eml")
        try Files.write(message, Self.listCopy())
        let ed = try makeKey(domain: "lists.example.org", selector: "ed", ed25519: true)
        let other = try makeKey(domain: "example.com", selector: "s1")
        for (flags, warnings) in [
            ([String](), ["not DKIM-signed: no DKIM key is configured", "not ARC-sealed: no DKIM key for"]),
            (
                ["--dkim", ed.flag],
                ["not ARC-sealed: only an Ed25519 key (ARC seals with RSA) for the ARC sealing domain"]
            ),
            (
                ["--dkim", other.flag],
                ["not DKIM-signed: no DKIM key for the From domain lists.example.org", "not ARC-sealed: no DKIM key"]
            ),
        ] {
            let result = try Run.program("deliver", ["--dry-run", message] + flags)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("Subject: [parents] Bake sale"))
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == warnings.count, "\(flags): \(result.stderr)")
            for (line, warning) in zip(lines, warnings) {
                #expect(line.hasPrefix("deliver --dry-run: warning: \(warning)"), "\(line)")
            }
        }
        // Control fields deliver cannot use are said too, not skipped in silence.
        let rsa = try makeKey(domain: "lists.example.org", selector: "rs")
        try Files.write(message, Self.listCopy(seal: "lists.example.org one none"))
        let unusable = try Run.program("deliver", ["--dry-run", message, "--dkim", rsa.flag])
        #expect(unusable.status == 0, "\(unusable.stderr)")
        #expect(
            unusable.stderr.hasPrefix(
                "deliver --dry-run: warning: not ARC-sealed: the ARC control fields are unusable ("),
            "\(unusable.stderr)")
    }
}
