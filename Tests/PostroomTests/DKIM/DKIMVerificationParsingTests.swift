import PostroomCore
import Testing

/// The crypto-free half of verification: signature tags, key records, Authentication-Results,
/// and the report route reads from `verify`.
@Suite struct DKIMVerificationParsingTests {
    static func field(_ value: String) throws -> HeaderField {
        try #require(
            try Message(parsing: Array("DKIM-Signature: \(value)\nFrom: a@example.org\n\nx\n".utf8)).fields.first)
    }

    static let good = "v=1; a=rsa-sha256; c=relaxed/simple; d=Example.org; s=s1; h=from:to; bh=AAAA; b=QUJDREVGR0hJSktM"

    @Test func aCompleteSignatureParses() throws {
        let signature = try DKIMReceivedSignature(try Self.field(Self.good), now: 1000)
        #expect(signature.algorithm == .rsaSHA256)
        #expect(signature.domain == "example.org")
        #expect(signature.selector == "s1")
        #expect(signature.signedData.canonicalization.header == .relaxed)
        #expect(signature.signedData.canonicalization.body == .simple)
        #expect(signature.signaturePrefix == "QUJDREVG")
        #expect(signature.bodyLength == nil)
    }

    @Test(arguments: [
        ("v=2; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA", DKIMResult.permerror, "v= is not 1"),
        ("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; b=AAAA", .permerror, "no bh= tag"),
        ("v=1; a=rsa-sha256; d=example.org; h=from; bh=AAAA; b=AAAA", .permerror, "no s= tag"),
        ("v=1; a=rsa-sha1; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA", .neutral, "rsa-sha1 is not supported"),
        ("v=1; a=rsa-sha256; d=example.org; s=s1; h=to:subject; bh=AAAA; b=AAAA", .permerror, "does not sign From"),
        ("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA; i=@evil.example", .permerror, "i= is not"),
        ("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA; x=999", .permerror, "expired"),
        ("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA; l=-1", .permerror, "l= is not a number"),
        ("v=1; a=rsa-sha256; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA; q=http", .permerror, "dns/txt"),
        ("v=1; a=rsa-sha256; d=exa mple.org; s=s1; h=from; bh=AAAA; b=AAAA", .permerror, "not a DNS name"),
        ("v=1; a=rsa-sha256; c=fancy; d=example.org; s=s1; h=from; bh=AAAA; b=AAAA", .permerror, "canonicalization"),
        ("v=1; 1a=rsa-sha256", .permerror, "not a tag list"),
    ])
    func unusableSignaturesSayWhy(value: String, result: DKIMResult, reason: String) throws {
        let field = try Self.field(value)
        do throws(DKIMCheckFailure) {
            _ = try DKIMReceivedSignature(field, now: 1000)
            Issue.record("\(value) was accepted")
        } catch {
            #expect(error.check.result == result)
            #expect(error.check.reason.contains(reason), "\(error.check.reason)")
        }
    }

    @Test func aSubdomainIdentityAndALaterExpiryAreAccepted() throws {
        let signature = try DKIMReceivedSignature(
            try Self.field(Self.good + "; i=joe@mail.example.org; t=900; x=2000"), now: 1000)
        #expect(signature.identity == "joe@mail.example.org")
        #expect(signature.expiration == 2000)
    }

    @Test func lengthLimitedBodiesAreCutAndTheRestCounted() throws {
        let signature = try DKIMReceivedSignature(try Self.field(Self.good + "; l=5"), now: 1000)
        let body = try #require(signature.canonicalBody(Array("Hello\nmore text appended\n".utf8)))
        #expect(body.bytes == Array("Hello".utf8))
        #expect(body.unsigned == "\r\nmore text appended\r\n".utf8.count)
        // l= longer than the body: the body was cut on the way.
        #expect(signature.canonicalBody(Array("Hi".utf8)) == nil)
    }

    @Test func keyRecordsParse() throws {
        let rsa = try DKIMKeyRecord(parsing: "v=DKIM1; k=rsa; t=y:s; h=sha256; p=AAEC")
        #expect(rsa.keyType == "rsa")
        #expect(rsa.publicKey == [0, 1, 2])
        #expect(rsa.strict && rsa.testing)
        #expect(rsa.refusal(of: .rsaSHA256) == nil)
        #expect(rsa.refusal(of: .ed25519SHA256) != nil)
        // k= defaults to rsa; whitespace inside p= is folding.
        let plain = try DKIMKeyRecord(parsing: "p=AA EC")
        #expect(plain.keyType == "rsa" && plain.publicKey == [0, 1, 2] && !plain.strict)
        #expect(try DKIMKeyRecord(parsing: "v=DKIM1; k=rsa; h=sha1; p=AAEC").refusal(of: .rsaSHA256) != nil)
        #expect(try DKIMKeyRecord(parsing: "v=DKIM1; p=").isRevoked)
        for bad in ["v=DKIM2; p=AAEC", "k=rsa; v=DKIM1; p=AAEC", "v=DKIM1; k=rsa", "p=!!", "v=DKIM1; s=web; p=AAEC"] {
            #expect(throws: DKIMKeyRecordError.self, "\(bad)") { try DKIMKeyRecord(parsing: bad) }
        }
    }

    @Test func resultsAreWrittenAsAuthenticationResults() {
        let check = DKIMCheck(
            .fail, "body hash (did) not verify", domain: "example.org", selector: "s1", signaturePrefix: "Ab/+=x")
        #expect(
            check.resinfo.text
                == "dkim=fail (body hash did not verify) header.d=example.org header.s=s1 header.b=\"Ab/+=x\"")
        #expect(
            DKIMCheck(.pass, domain: "example.org", selector: "s1", signaturePrefix: "AbCdEf12").resinfo.text
                == "dkim=pass header.d=example.org header.s=s1 header.b=AbCdEf12")
        #expect(AuthenticationResults.text([]) == "none")
    }

    @Test func authenticationResultsParseWithCommentsVersionsAndQuotes() throws {
        let value = """
            mx.example.org 1; dkim=pass (2048-bit key; secure) header.d=example.net header.s=s1
             header.b="Ab/c=d"; spf = pass smtp.mailfrom=poster@example.net;
             dmarc=pass (p=none dis=none) header.from=example.net
            """
        let parsed = try #require(AuthenticationResults.parse(value))
        #expect(parsed.authservID == "mx.example.org")
        #expect(parsed.results.map(\.method) == ["dkim", "spf", "dmarc"])
        #expect(parsed.results[0].property("header.b") == "Ab/c=d")
        #expect(parsed.results[1].result == "pass")
        #expect(parsed.results[1].property("smtp.mailfrom") == "poster@example.net")
        #expect(parsed.results[2].property("header.from") == "example.net")
        #expect(try #require(AuthenticationResults.parse("mx.example.org; none")).results.isEmpty)
        // What the writer writes reads back the same.
        let written = AuthenticationResult(
            method: "dkim", result: "pass", properties: [("header.d", "example.org"), ("header.b", "a/b=")])
        #expect(AuthenticationResults.parse("x; " + written.text)?.results == [written])
    }

    @Test func verifyReportsAreRead() throws {
        let report = try #require(
            VerifyReport(
                parsing:
                    "dkim=fail (body hash did not verify) header.d=example.net header.s=a header.b=x; dkim=pass header.d=mail.example.net header.s=b header.b=y; arc=pass\narc-instance=2 cv=pass\n"
            ))
        #expect(report.dkim.count == 2)
        #expect(report.arc.result == "pass")
        #expect(report.arcInstance == 2 && report.chain == .pass)
        // Relaxed alignment: d=mail.example.net aligns with every domain under example.net.
        let suffixes = PublicSuffixList(text: "net\nio\ngithub.io\n")
        for from in ["mail.example.net", "lists.mail.example.net", "example.net", "EXAMPLE.NET."] {
            #expect(try report.alignedSignature(fromDomain: from, publicSuffixList: suffixes).aligned, "\(from)")
        }
        let unaligned = try report.alignedSignature(fromDomain: "example.com", publicSuffixList: suffixes)
        #expect(!unaligned.aligned && !unaligned.temporary)
        #expect(unaligned.reason.contains("fail d=example.net, pass d=mail.example.net"), "\(unaligned.reason)")
        // A private public suffix: its users are separate organisations, and the suffix itself aligns with none.
        let hosted = try #require(
            VerifyReport(
                parsing:
                    "dkim=pass header.d=github.io header.s=a; dkim=pass header.d=ann.github.io header.s=b; arc=none\narc-instance=0 cv=none\n"
            ))
        #expect(try hosted.alignedSignature(fromDomain: "ann.github.io", publicSuffixList: suffixes).aligned)
        #expect(try hosted.alignedSignature(fromDomain: "www.ann.github.io", publicSuffixList: suffixes).aligned)
        #expect(try !hosted.alignedSignature(fromDomain: "bob.github.io", publicSuffixList: suffixes).aligned)
        let unsigned = try #require(VerifyReport(parsing: "dkim=none; arc=none\narc-instance=0 cv=none\n"))
        #expect(
            try unsigned.alignedSignature(fromDomain: "example.net", publicSuffixList: suffixes).reason.contains(
                "unsigned"))
        let temporary = try #require(
            VerifyReport(parsing: "dkim=temperror header.d=example.net header.s=a; arc=none\narc-instance=0 cv=none\n"))
        #expect(try temporary.alignedSignature(fromDomain: "example.net", publicSuffixList: suffixes).temporary)
        #expect(throws: PostroomError.self) {
            try report.alignedSignature(
                fromDomain: "example.net", publicSuffixList: PublicSuffixList(path: "/nonexistent/public_suffix_list"))
        }
        for bad in [
            "", "dkim=pass\n", "dkim=pass; arc=none\narc-instance=x cv=none\n", "dkim=pass\narc-instance=0 cv=none\n",
        ] {
            #expect(VerifyReport(parsing: bad) == nil, "\(bad)")
        }
    }
}
