import Foundation
import Postroom
import PostroomCore
import Testing

/// DKIMVerifier over keys given by a table (the DNS tests are in CommandTests/VerifyCommandTests).
@Suite struct DKIMVerifierTests {
    static let keyName = "brisbane._domainkey.football.example.com"
    static let record = "v=DKIM1; k=ed25519; p=\(DKIMKeyTests.rfc8463Public)"

    /// A message signed by postroom's signer with the RFC 8463 key.
    static func signed(
        _ text: String = "From: Joe <joe@football.example.com>\nTo: s@example.net\nSubject: x\n\nbody\n"
    )
        throws -> Message
    {
        let key = try DKIMKey(name: DKIMKeyTests.name, pem: DKIMKeyTests.rfc8463PEM)
        var message = try Message(parsing: Array(text.utf8))
        let body = message.body
        _ = try DKIMSigner(keys: [key]).sign(header: &message, timestamp: 1) { $0(body) }
        return message
    }

    static func verifier(_ records: [String: DNSTXTLookup]) -> DKIMVerifier {
        DKIMVerifier(now: 2000) { records[$0] ?? .noRecord }
    }

    @Test func theRFC8463ExampleVerifies() throws {
        let message = try DKIMKeyTests.rfc8463Message()
        let checks = Self.verifier([Self.keyName: .found([Self.record])]).verify(message)
        #expect(checks.map(\.result) == [.pass], "\(checks)")
        #expect(
            checks.first?.resinfo.text
                == "dkim=pass header.d=football.example.com header.s=brisbane header.b=\"9/dsDChY\"")
        // The same bytes with the subject changed: the signature no longer matches.
        let tampered = try DKIMKeyTests.rfc8463Message(subject: "Is dinner ready!")
        #expect(Self.verifier([Self.keyName: .found([Self.record])]).verify(tampered).map(\.result) == [.fail])
    }

    @Test func postroomsOwnSignaturePassesAndAChangedByteFails() throws {
        let message = try Self.signed()
        let verifier = Self.verifier([Self.keyName: .found(["v=DKIM1; k=rsa; p=AAAA", Self.record])])
        #expect(verifier.verify(message).map(\.result) == [.pass])
        var body = message
        body.body = Array("bodY\n".utf8)
        #expect(verifier.verify(body).map(\.reason) == ["body hash did not verify"])
        var header = message
        try header.set("Subject", "y")
        #expect(verifier.verify(header).map(\.result) == [.fail])
    }

    @Test func keyProblemsAreErrorsNotFailures() throws {
        let message = try Self.signed()
        let cases: [(DNSTXTLookup, DKIMResult, String)] = [
            (.noRecord, .permerror, "no key record at brisbane._domainkey.football.example.com"),
            (.unavailable("timed out"), .temperror, "timed out"),
            (.found(["v=DKIM1; k=ed25519; p="]), .permerror, "revoked"),
            (.found(["v=DKIM1; k=rsa; p=\(DKIMKeyTests.rfc8463Public)"]), .permerror, "not an RSA public key"),
            (.found(["v=DKIM1; k=ed25519; h=sha1; p=\(DKIMKeyTests.rfc8463Public)"]), .permerror, "sha256"),
        ]
        for (lookup, result, reason) in cases {
            let check = Self.verifier([Self.keyName: lookup]).verify(message)
            #expect(check.map(\.result) == [result], "\(lookup)")
            #expect(check.first?.reason.contains(reason) == true, "\(check)")
        }
    }

    @Test func aLengthLimitLeavingTextUnsignedIsNotAPass() throws {
        var message = try Self.signed()
        // Re-sign by hand with l= covering only the first line of the body.
        let key = try DKIMKey(name: DKIMKeyTests.name, pem: DKIMKeyTests.rfc8463PEM)
        message.removeAll { $0.hasName("DKIM-Signature") }
        let bodyHash = PostroomCore.Digest.hash(.sha256, Array("body\r\n".utf8))
        let template = DKIMSignatureField(
            algorithm: .ed25519SHA256, domain: "football.example.com", selector: "brisbane",
            canonicalization: (.relaxed, .relaxed), signedNames: ["From"], bodyHash: bodyHash, timestamp: nil)
        let unsigned = template.field(signature: [])
        let withLength = Array(
            String(decoding: unsigned.raw, as: UTF8.self).replacingOccurrences(of: "bh=", with: "l=6; bh=").utf8)
        let field = try #require(try Message(parsing: withLength + Array("\nx".utf8)).fields.first)
        let signed = try #require(DKIMSignedData(field))
        let signature = try key.sign(signed.signingInput(fields: message.fields + [field]))
        let complete = String(decoding: withLength, as: UTF8.self).replacingOccurrences(
            of: "b=\n", with: "b=\(Base64.encode(signature))\n")
        message.prepend(fields: [try #require(try Message(parsing: Array((complete + "\nx").utf8)).fields.first)])
        let verifier = Self.verifier([Self.keyName: .found([Self.record])])
        #expect(verifier.verify(message).map(\.result) == [.pass])
        message.body += Array("Appended by a list: click here\n".utf8)
        let check = verifier.verify(message)
        #expect(check.map(\.result) == [.policy], "\(check)")
    }

    @Test func atMostFiveSignaturesAreChecked() throws {
        var message = try Self.signed()
        let signature = try #require(message.fields.first)
        message.prepend(fields: Array(repeating: signature, count: 6))
        #expect(Self.verifier([Self.keyName: .found([Self.record])]).verify(message).count == 5)
    }
}
