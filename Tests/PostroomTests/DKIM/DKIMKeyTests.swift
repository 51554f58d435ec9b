import Crypto
import Glibc
import Postroom
import PostroomCore
import TestSupport
import Testing

@Suite struct DKIMKeyTests {
    /// RFC 8463 appendix A: the Ed25519 key (seed) and its public key.
    static let rfc8463Seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
    static let rfc8463Public = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

    /// The seed in PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes keys.
    static var rfc8463PEM: String {
        let der =
            [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
            + (Base64.decode(Array(rfc8463Seed.utf8)) ?? [])
        return "-----BEGIN PRIVATE KEY-----\n\(Base64.encode(der))\n-----END PRIVATE KEY-----\n"
    }

    static let name = DKIMKey.Name(domain: "football.example.com", selector: "brisbane", keyFile: "test.key")

    /// The signed message of RFC 8463 A.3 (as dkimpy's test data carries it, simple/simple):
    /// Ed25519 is deterministic, so signing what that signature covers gives its b= exactly.
    /// RFC 8463 A.3's signed message, as dkimpy's test data carries it (simple/simple), with
    /// `subject` (another one breaks the signature). Lines kept apart: the spaces at the end of
    /// some are signed.
    static func rfc8463Message(subject: String = "Is dinner ready?") throws -> Message {
        let lines = [
            "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; ",
            " d=football.example.com; i=@football.example.com; ",
            " q=dns/txt; s=brisbane; t=1518460054; h=from : to : ",
            " subject : date : message-id : from : subject : date; ",
            " bh=4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=; ",
            " b=9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YB",
            " o0wBLR++X5LqmsxXaOYLLJe46l10AQ==",
            "From: Joe SixPack <joe@football.example.com>",
            "To: Suzie Q <suzie@shopping.example.net>",
            "Subject: \(subject)",
            "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)",
            "Message-ID: <20030712040037.46341.5F8J@football.example.com>",
            "",
            "Hi.",
            "",
            "We lost the game.  Are you hungry yet?",
            "",
            "Joe.",
            "",
        ]
        return try Message(parsing: Array(lines.joined(separator: "\r\n").utf8))
    }

    @Test func reproducesTheRFC8463Signature() throws {
        let message = try Self.rfc8463Message()
        let key = try DKIMKey(name: Self.name, pem: Self.rfc8463PEM)
        #expect(key.algorithm == .ed25519SHA256)
        #expect(key.publicKeyBase64 == Self.rfc8463Public)
        let signed = try #require(DKIMSignedData(message.fields[0]))
        var canonicalizer = DKIMBodyCanonicalizer(signed.canonicalization.body)
        let body = canonicalizer.update(message.body) + canonicalizer.finish()
        #expect(Base64.encode(Array(SHA256.hash(data: body))) == signed.tags["bh"])
        let signature = try key.sign(signed.signingInput(fields: message.fields))
        #expect(Base64.encode(signature) == DKIMTagList.withoutWhitespace(signed.tags["b"] ?? ""))
    }

    /// The signer's own field verifies with the public key over what it says it signed.
    @Test func signerOutputVerifies() throws {
        let key = try DKIMKey(name: Self.name, pem: Self.rfc8463PEM)
        var message = try Message(
            parsing: Array("From: Joe <joe@mail.football.example.com>\nTo: s@example.net\nSubject: x\n\nbody \n\n".utf8)
        )
        let body = message.body
        let outcome = try DKIMSigner(keys: [key]).sign(header: &message, timestamp: 1) { $0(body) }
        #expect(outcome == .signed([Self.name]))
        let signed = try #require(DKIMSignedData(message.fields[0]))
        let publicKey = try Curve25519.Signing.PublicKey(
            rawRepresentation: Base64.decode(Array(Self.rfc8463Public.utf8)) ?? [])
        let signature = Base64.decode(Array(DKIMTagList.withoutWhitespace(signed.tags["b"] ?? "").utf8)) ?? []
        let digest = Array(SHA256.hash(data: signed.signingInput(fields: message.fields)))
        #expect(publicKey.isValidSignature(signature, for: digest))
        // One byte of a signed field changed: no longer valid.
        var changed = message
        try changed.set("Subject", "y")
        #expect(
            !publicKey.isValidSignature(
                signature, for: Array(SHA256.hash(data: signed.signingInput(fields: changed.fields)))))
    }

    @Test func theFromDomainOrItsClosestParentSigns() throws {
        let parent = try DKIMKey(
            name: DKIMKey.Name(domain: "example.com", selector: "a", keyFile: "k"), pem: Self.rfc8463PEM)
        let child = try DKIMKey(
            name: DKIMKey.Name(domain: "Football.Example.com", selector: "b", keyFile: "k"), pem: Self.rfc8463PEM)
        let signer = DKIMSigner(keys: [parent, child])
        #expect(signer.keys(for: "mail.football.example.com").map(\.name.selector) == ["b"])
        #expect(signer.keys(for: "football.EXAMPLE.com").map(\.name.selector) == ["b"])
        #expect(signer.keys(for: "other.example.com").map(\.name.selector) == ["a"])
        #expect(signer.keys(for: "example.net").isEmpty)
        #expect(signer.keys(for: "notexample.com").isEmpty)
        var message = try Message(parsing: Array("From: x@example.net\n\nhi\n".utf8))
        #expect(try signer.sign(header: &message, timestamp: nil) { $0([]) } == .noKey(domain: "example.net"))
        #expect(message.fields.count == 1)
    }

    @Test func keyNamesParse() throws {
        let name = try DKIMKeyName(parsing: "Example.org.:s1:/etc/postroom/s1:2024.key")
        #expect(name == DKIMKey.Name(domain: "example.org", selector: "s1", keyFile: "/etc/postroom/s1:2024.key"))
        #expect(name.description == "example.org:s1:/etc/postroom/s1:2024.key")
        for bad in ["example.org:s1", "example.org:s1:", "exa mple.org:s1:/k", "example.org:s_1:/k", "[1.2.3.4]:s:/k"] {
            #expect(throws: DKIMKeyName.ParseError.self) { try DKIMKeyName(parsing: bad) }
        }
        #expect(
            try DKIMKeyName.parseList(" a.example:s1:/k ,, b.example:s2:/a:b ").map(\.description) == [
                "a.example:s1:/k", "b.example:s2:/a:b",
            ])
    }

    @Test func badKeyNamesStopDeliverAsConfigurationErrors() throws {
        for (flags, text) in [(["example.org:s1"], ""), ([], "dkim = example.org:s1:/k, nope")] {
            #expect {
                try DKIMSigner.configured(flags: flags, configuration: try Configuration(text: text))
            } throws: { error in
                (error as? PostroomError)?.exitStatus == .config
            }
        }
    }

    @Test func badKeysAreConfigurationErrors() throws {
        let directory = TemporaryDirectory()
        let garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        for pem in [garbage, "not a key"] {
            let error = #expect(throws: PostroomError.self) { try DKIMKey(name: Self.name, pem: pem) }
            #expect(error?.exitStatus == .config)
        }
        let path = directory.file("open.key")
        try Files.write(path, Self.rfc8463PEM)
        chmod(path, 0o644)
        let error = #expect(throws: PostroomError.self) {
            try DKIMKey(loading: DKIMKey.Name(domain: "example.org", selector: "s", keyFile: path))
        }
        #expect(error?.exitStatus == .config)
        #expect("\(error.map { "\($0)" } ?? "")".contains("chmod 600"))
        chmod(path, 0o600)
        #expect(
            try DKIMKey(loading: DKIMKey.Name(domain: "example.org", selector: "s", keyFile: path)).algorithm
                == .ed25519SHA256)
    }
}
