import Foundation
import Postroom
import TestSupport
import Testing

/// Keys made by openssl, published by a real dnsmasq, and messages signed by postroom's signer
/// and by dkimpy (Tests/Scripts/dkim_sign.py), for `verify` and for route's lists.
final class SignedMail: @unchecked Sendable {
    let signing = DKIMSigningTests()
    let keys: DKIMSigningTests.Keys
    let dns: DNSMasqServer
    let domain: String

    /// An Ed25519 key (selector `ed`) and an RSA-2048 key (`rs`) of `domain`, in DNS.
    init(domain: String = "example.org") throws {
        self.domain = domain
        keys = try signing.makeKeys(domain: domain)
        dns = try DNSMasqServer(records: keys.records.map(Self.txt), localDomains: [domain])
    }

    /// `NAME=TEXT` as a TXT record, the text cut into 255-byte strings.
    static func txt(_ spec: String) -> DNSMasqServer.TXT {
        let (name, text) = (String(spec.prefix { $0 != "=" }), String(spec.drop { $0 != "=" }.dropFirst()))
        var record = DNSMasqServer.TXT(name)
        var rest = Substring(text)
        record.strings = []
        while !rest.isEmpty {
            record.strings.append(String(rest.prefix(255)))
            rest = rest.dropFirst(255)
        }
        return record
    }

    /// The private key file of `selector`.
    func keyFile(_ selector: String) -> String { signing.directory.file("\(selector).key") }

    /// `text` signed by postroom's DKIMSigner with both keys (selector names as given).
    func signedByPostroom(_ text: String, selectors: [String] = ["ed", "rs"]) throws -> [UInt8] {
        let keys = try selectors.map { selector in
            try DKIMKey(
                loading: DKIMKey.Name(
                    domain: domain, selector: selector, keyFile: keyFile(selector == "gone" ? "ed" : selector)))
        }
        var message = try Message(parsing: Array(text.utf8))
        let body = message.body
        _ = try DKIMSigner(keys: keys).sign(header: &message, timestamp: 1_700_000_000) { $0(body) }
        return message.bytes
    }

    /// `bytes` signed by dkimpy: `dkim` (a DKIM-Signature with the key of `selector`) or `arc`
    /// (an ARC set, results from the Authentication-Results of `authservID`).
    func signedByDkimpy(
        _ bytes: [UInt8], mode: String = "dkim", selector: String, authservID: String? = nil
    )
        throws -> [UInt8]
    {
        let input = signing.directory.file("unsigned-\(UUID().uuidString).eml")
        try Files.write(input, bytes)
        let script = DKIMSigningTests.root.appendingPathComponent("Tests/Scripts/dkim_sign.py").path
        let result = try Run.program(
            "/usr/bin/python3",
            [script, mode, input, selector, domain, keyFile(selector)] + (authservID.map { [$0] } ?? []))
        try #require(result.status == 0, "\(result.stderr)")
        return Array(result.stdout.utf8)
    }

    /// Runs `verify` on `bytes` with this DNS server.
    func verify(_ bytes: [UInt8], server: String? = nil, _ extra: [String] = []) throws -> ProcessResult {
        try Run.program("verify", ["--dns-server", server ?? dns.server, "--dns-timeout", "1"] + extra, input: bytes)
    }
}

/// `verify` end to end: real keys in a real DNS server, signatures from two signers.
@Suite struct VerifyCommandTests {
    static let post = """
        From: Teacher <teacher@example.org>
        To: parents@site.example
        Subject: Field trip
        Date: Wed, 02 Dec 2026 05:00:00 +0000
        Message-ID: <trip@example.org>

        The bus leaves at 8.  \t
        Bring lunch.

        """

    static func lines(_ result: ProcessResult) -> [String] {
        result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func postroomsSignaturesPassAndAChangedByteFails() throws {
        let mail = try SignedMail()
        let signed = try mail.signedByPostroom(Self.post)
        let result = try mail.verify(signed)
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(Self.lines(result).first)
        #expect(line.contains("dkim=pass header.d=example.org header.s=ed header.b="), "\(line)")
        #expect(line.contains("dkim=pass header.d=example.org header.s=rs header.b="), "\(line)")
        #expect(line.hasSuffix("; arc=none"), "\(line)")
        #expect(Self.lines(result).last == "arc-instance=0 cv=none")
        let changed = Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "at 8", with: "at 9").utf8)
        let failed = try mail.verify(changed)
        #expect(failed.status == 0, "\(failed.stderr)")
        #expect(
            failed.stdout.components(separatedBy: "dkim=fail (body hash did not verify)").count == 3, "\(failed.stdout)"
        )
    }

    @Test(arguments: ["ed", "rs"])
    func dkimpysSignaturesPassAndAChangedHeaderFails(selector: String) throws {
        let mail = try SignedMail()
        let signed = try mail.signedByDkimpy(Array(Self.post.utf8), selector: selector)
        let result = try mail.verify(signed)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            Self.lines(result).first?.hasPrefix("dkim=pass header.d=example.org header.s=\(selector) ") == true,
            "\(result.stdout)")
        // CRLF on the wire verifies the same.
        let crlf = Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(try mail.verify(crlf).stdout.hasPrefix("dkim=pass"))
        let changed = Array(
            String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "Field trip", with: "Field Trip").utf8)
        #expect(try mail.verify(changed).stdout.hasPrefix("dkim=fail (signature did not verify)"))
    }

    @Test func aMissingKeyIsAPermanentErrorAndASilentServerATemporaryOne() throws {
        let mail = try SignedMail()
        let signed = try mail.signedByPostroom(Self.post, selectors: ["gone"])
        let missing = try mail.verify(signed)
        #expect(missing.status == 0)
        #expect(
            missing.stdout.hasPrefix("dkim=permerror (no key record at gone._domainkey.example.org)"),
            "\(missing.stdout)")
        let silent = try SilentUDPServer()
        let timedOut = try mail.verify(signed, server: silent.server)
        #expect(timedOut.status == 0, "\(timedOut.stderr)")
        #expect(timedOut.stdout.hasPrefix("dkim=temperror"), "\(timedOut.stdout)")
    }

    @Test func unsignedMailIsNoneAndTheAuthservIDLeadsWhenGiven() throws {
        let mail = try SignedMail()
        let result = try mail.verify(Array(Self.post.utf8), ["--authserv-id", "mx.site.example"])
        #expect(Self.lines(result) == ["mx.site.example; dkim=none; arc=none", "arc-instance=0 cv=none"])
    }

    @Test func badInputAndBadUsageHaveTheirExitCodes() throws {
        #expect(try Run.program("verify", [], input: Array("no header here\n".utf8)).status == 65)
        #expect(try Run.program("verify", ["/nonexistent/message.eml"]).status == 66)
        #expect(try Run.program("verify", ["--dns-timeout", "forever"]).status == 64)
        #expect(try Run.program("verify", ["--dns-server", "not-an-ip"], input: Array(Self.post.utf8)).status == 75)
        #expect(try Run.program("verify", ["--help"]).stdout.contains("usage: verify"))
    }

    /// A message that came through one ARC sealer (dkimpy), then another.
    static func sealed(_ mail: SignedMail, times: Int) throws -> [UInt8] {
        var bytes = try mail.signedByDkimpy(Array(Self.post.utf8), selector: "rs")
        for instance in 1...times {
            let results = instance == 1 ? "dkim=pass header.d=example.org" : "arc=pass"
            bytes = Array("Authentication-Results: mx\(instance).example.org; \(results)\n".utf8) + bytes
            bytes = try mail.signedByDkimpy(bytes, mode: "arc", selector: "rs", authservID: "mx\(instance).example.org")
        }
        return bytes
    }

    @Test func anARCChainFromDkimpyValidatesAndABrokenOneFails() throws {
        let mail = try SignedMail()
        for times in [1, 2] {
            let sealed = try Self.sealed(mail, times: times)
            let result = try mail.verify(sealed)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Self.lines(result).first?.hasSuffix("; arc=pass") == true, "\(result.stdout)")
            #expect(Self.lines(result).last == "arc-instance=\(times) cv=pass")
        }
        let text = String(decoding: try Self.sealed(mail, times: 2), as: UTF8.self)
        // The first hop's results changed: the second seal, which covers them, no longer matches.
        let broken = text.replacingOccurrences(
            of: "i=1; mx1.example.org; dkim=pass", with: "i=1; mx1.example.org; dkim=fail")
        #expect(broken != text)
        let result = try mail.verify(Array(broken.utf8))
        #expect(Self.lines(result).last == "arc-instance=2 cv=fail", "\(result.stdout)")
        #expect(result.stdout.contains("arc=fail (ARC-Seal i=2: fail"), "\(result.stdout)")
        // A body changed after the last hop: its message signature fails.
        let body = text.replacingOccurrences(of: "Bring lunch", with: "Bring money")
        #expect(try mail.verify(Array(body.utf8)).stdout.contains("arc=fail (ARC-Message-Signature i=2: fail"))
    }
}
