import PostroomCore
import Testing

@Suite struct ARCSetTests {
    private func message(_ text: String) throws -> Message {
        try Message(parsing: Array(text.utf8))
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A set as a sealer writes it: seal on top, then the message signature, then the results.
    private func set(_ instance: Int, cv: String, signs: String = "from:to") -> String {
        """
        ARC-Seal: i=\(instance); a=rsa-sha256; t=1700000000; cv=\(cv);
        \td=example.net; s=arc; b=SEAL\(instance)==
        ARC-Message-Signature: i=\(instance); a=rsa-sha256; c=relaxed/relaxed; d=example.net;
        \ts=arc; t=1700000000; h=\(signs); bh=BODY\(instance)=; b=AMS\(instance)==
        ARC-Authentication-Results: i=\(instance); mx.example.net; dkim=pass header.d=example.com

        """
    }

    private let rest = "From: a@example.com\nTo: list@example.org\nSubject: hi\n\nbody\n"

    @Test func noARCFieldsIsAnEmptyChain() throws {
        let chain = try ARCChain(fields: message(rest).fields)
        #expect(chain.sets.isEmpty)
        #expect(chain.latestInstance == 0)
        #expect(chain.sealSignedData(upTo: 1) == nil)
    }

    /// Sets come back in instance order whatever order the header has them in.
    @Test func setsInInstanceOrder() throws {
        let chain = try ARCChain(fields: message(set(2, cv: "pass") + set(1, cv: "none") + rest).fields)
        #expect(chain.sets.map(\.instance) == [1, 2])
        #expect(chain.latestInstance == 2)
        #expect(chain.sets.map(\.chainValidation) == [.none, .pass])
        #expect(chain.set(2)?.sealTags["d"] == "example.net")
        #expect(chain.set(1)?.messageSignatureData.signedNames == ["from", "to"])
        #expect(chain.set(3) == nil)
        let shuffled = try ARCChain(fields: message(set(1, cv: "none") + rest + "").fields)
        #expect(shuffled.sets.map(\.instance) == [1])
    }

    /// RFC 8617 5.1.1: sets 1..N in order, each AAR, AMS, AS, relaxed; the last seal without
    /// its b= value and without the final CRLF.
    @Test func sealSignedDataCoversTheSetsInOrder() throws {
        let chain = try ARCChain(fields: message(set(2, cv: "pass") + set(1, cv: "none") + rest).fields)
        let expected = [
            "arc-authentication-results:i=1; mx.example.net; dkim=pass header.d=example.com\r\n",
            "arc-message-signature:i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=arc; t=1700000000; "
                + "h=from:to; bh=BODY1=; b=AMS1==\r\n",
            "arc-seal:i=1; a=rsa-sha256; t=1700000000; cv=none; d=example.net; s=arc; b=SEAL1==\r\n",
            "arc-authentication-results:i=2; mx.example.net; dkim=pass header.d=example.com\r\n",
            "arc-message-signature:i=2; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=arc; t=1700000000; "
                + "h=from:to; bh=BODY2=; b=AMS2==\r\n",
            "arc-seal:i=2; a=rsa-sha256; t=1700000000; cv=pass; d=example.net; s=arc; b=",
        ]
        #expect(chain.sealSignedData(upTo: 2).map(text) == expected.joined())
        #expect(
            chain.sealSignedData(upTo: 1).map(text) == expected[0] + expected[1] + String(expected[2].dropLast(10))
                + "b=")
    }

    /// 5.1.2: a seal saying cv=fail signs its own set only.
    @Test func failedSealSignsItsOwnSetOnly() throws {
        let chain = try ARCChain(fields: message(set(2, cv: "fail") + set(1, cv: "none") + rest).fields)
        let data = try #require(chain.sealSignedData(upTo: 2).map(text))
        #expect(data.hasPrefix("arc-authentication-results:i=2;"))
        #expect(!data.contains("i=1;"))
    }

    /// The message signature's signed data is a DKIM signature's: the h= fields, then itself.
    @Test func messageSignatureSignedData() throws {
        let fields = try message(set(1, cv: "none") + rest).fields
        let chain = try ARCChain(fields: fields)
        let data = try #require(chain.set(1)).messageSignatureData.signingInput(fields: fields)
        #expect(
            text(data)
                == "from:a@example.com\r\nto:list@example.org\r\narc-message-signature:i=1; a=rsa-sha256; "
                + "c=relaxed/relaxed; d=example.net; s=arc; t=1700000000; h=from:to; bh=BODY1=; b=")
    }

    @Test(arguments: [
        (
            "missing seal",
            "ARC-Message-Signature: i=1; a=rsa-sha256; d=x; s=y; h=from; bh=A; b=B\n"
                + "ARC-Authentication-Results: i=1; x; none\n", "has no ARC-Seal"
        ),
        ("gap", "SET2", "i=1 is missing"),
        ("instance over 50", "ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=x; s=y; b=B\n", "no instance"),
        ("no instance", "ARC-Authentication-Results: mx.example.net; dkim=pass\n", "no instance"),
        ("signed instance", "ARC-Seal: i=+1; a=rsa-sha256; cv=none; d=x; s=y; b=B\n", "no instance"),
        ("duplicate", "SET1SET1", "two ARC-Seal fields with i=1"),
        ("cv none above 1", "SET1SET2NONE", "ARC-Seal i=2 has cv=none"),
        ("cv pass at 1", "SET1PASS", "ARC-Seal i=1 has cv=pass"),
        ("AMS signs seals", "SET1SEAL", "signs ARC-Seal"),
        ("seal with h=", "SET1H", "has an h= tag"),
    ])
    func malformedChains(name: String, fields: String, reason: String) throws {
        var header = fields
        header = header.replacingOccurrences("SET2NONE", set(2, cv: "none"))
        header = header.replacingOccurrences("SET1PASS", set(1, cv: "pass"))
        header = header.replacingOccurrences("SET1SEAL", set(1, cv: "none", signs: "from:arc-seal"))
        header = header.replacingOccurrences(
            "SET1H", set(1, cv: "none").replacingOccurrences("cv=none;", "cv=none; h=from;"))
        header = header.replacingOccurrences("SET1", set(1, cv: "none"))
        header = header.replacingOccurrences("SET2", set(2, cv: "pass"))
        let fields = try message(header + rest).fields
        #expect(throws: ARCChainError.self, "\(name)") { try ARCChain(fields: fields) }
        do {
            _ = try ARCChain(fields: fields)
        } catch {
            #expect(error.reason.contains(reason), "\(name): \(error.reason)")
        }
    }

    /// What the sealer writes, a validator reads back: the seal's signed data is the same.
    @Test(arguments: [ARCChainValidation.pass, .fail])
    func madeSetsReadBack(cv: ARCChainValidation) throws {
        let header = try message(set(1, cv: "none") + "DKIM-Signature: v=1; d=example.com; b=X\n" + rest)
        let existing = try ARCChain(fields: header.fields)
        let made = ARCSetFields(
            instance: 2, algorithm: .rsaSHA256, domain: "lists.example.org", selector: "s1", timestamp: 1_700_000_001,
            chainValidation: cv)
        let names = ARCSetFields.messageSignatureNames(in: header.fields)
        #expect(names.filter { $0 == "DKIM-Signature" }.count == 1)
        #expect(names.filter { $0 == "From" }.count == 2)
        #expect(!names.contains { $0.hasPrefix("ARC") })
        let results = try made.authenticationResults("lists.example.org; dkim=pass header.d=example.com; arc=pass")
        let signature = made.messageSignature(
            signedNames: names, bodyHash: [1, 2, 3], signature: Array(repeating: 7, count: 256))
        let sealed = made.seal(signature: Array(repeating: 9, count: 256))
        let signedData = made.sealSignedData(
            previous: existing.sets, authenticationResults: results, messageSignature: signature)
        var out = header
        out.prepend(fields: [sealed, signature, results])
        let chain = try ARCChain(fields: out.fields)
        #expect(chain.latestInstance == 2)
        #expect(chain.set(2)?.chainValidation == cv)
        #expect(chain.sealSignedData(upTo: 2) == signedData)
        #expect(
            chain.set(2)?.messageSignatureData.signingInput(fields: out.fields)
                == made.messageSignatureSignedData(fields: header.fields, signedNames: names, bodyHash: [1, 2, 3]))
        for line in [results, signature, sealed].flatMap({ text($0.raw).split(separator: "\n") }) {
            #expect(line.utf8.count <= 78, "\(line)")
        }
        #expect(
            text(results.raw)
                == "ARC-Authentication-Results: i=2; lists.example.org; dkim=pass\n header.d=example.com; arc=pass\n")
        #expect(
            text(sealed.raw).hasPrefix(
                "ARC-Seal: i=2; a=rsa-sha256; t=1700000001; cv=\(cv.rawValue); d=lists.example.org; s=s1;\n\tb="))
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
