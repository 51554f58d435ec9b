import Foundation
import Postroom
import TestSupport
import Testing

/// The built `route` running `verify` for lists: posts that must be signed, and the ARC control
/// fields each copy gets for deliver to seal. Keys are served by a real dnsmasq.
@Suite struct RouteListAuthenticationTests {
    static let post = VerifyCommandTests.post

    /// A route fixture with the list `parents@site.example` of two members and `options`.
    static func fixture(_ options: String, config: String, mail: SignedMail) throws -> RouteFixture {
        let route = try RouteFixture(rules: "^parents$ list lists/parents posters=anyone \(options)\n")
        try FileManager.default.createDirectory(
            atPath: route.directory.file("lists"), withIntermediateDirectories: false)
        try Files.write(route.directory.file("lists/parents"), "one@example.net\ntwo@example.net\n")
        try route.configure("dns_server = \(mail.dns.server)\ndns_timeout = 1000\n" + config)
        return route
    }

    static func send(_ route: RouteFixture, _ bytes: [UInt8]) throws -> ProcessResult {
        try route.route(bytes, recipient: "parents@site.example", sender: "teacher@example.org")
    }

    static func held(_ route: RouteFixture) -> [String] {
        let new = route.spool.maildir(.held).path(of: .new)
        return Files.list(new).map { "\(new)/\($0)" }
    }

    @Test func aListRequiringSignaturesTakesSignedPostsAndHoldsOthers() throws {
        let mail = try SignedMail()
        let route = try Self.fixture("require_signature=yes arc=no", config: "", mail: mail)
        let signed = try Self.send(route, try mail.signedByDkimpy(Array(Self.post.utf8), selector: "ed"))
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(route.outgoing.count == 2)
        #expect(Self.held(route).isEmpty)

        let unsigned = try Self.send(route, Array(Self.post.replacingOccurrences(of: "trip@", with: "trip2@").utf8))
        #expect(unsigned.status == 0, "\(unsigned.stderr)")
        #expect(route.outgoing.count == 2)
        let held = try #require(Self.held(route).first)
        let reason = try Message(parsing: try Files.read(held)).control(.heldReason) ?? ""
        #expect(reason.contains("no valid DKIM signature of example.org (unsigned)"), "\(reason)")

        // A valid signature of example.org on a post From elsewhere.example: not aligned, held too.
        let foreign = try mail.signedByDkimpy(
            Array(Self.post.replacingOccurrences(of: "teacher@example.org", with: "teacher@elsewhere.example").utf8),
            selector: "ed")
        #expect(try Self.send(route, foreign).status == 0)
        #expect(Self.held(route).count == 2)
        let reasons = try Self.held(route).map { try Message(parsing: try Files.read($0)).control(.heldReason) ?? "" }
        #expect(reasons.contains { $0.contains("of elsewhere.example (pass d=example.org)") }, "\(reasons)")

        let explained = try route.route(
            Array(), recipient: nil, sender: nil,
            ["--explain", "parents@site.example", "--sender", "teacher@example.org"])
        #expect(
            explained.stdout.contains("held (no valid DKIM signature of example.org (unsigned))"), "\(explained.stdout)"
        )
    }

    @Test func aKeyLookupThatGetsNoAnswerMakesTheMTARetry() throws {
        let mail = try SignedMail()
        let silent = try SilentUDPServer()
        let route = try Self.fixture("require_signature=yes", config: "", mail: mail)
        try route.configure("dns_server = \(silent.server)\ndns_timeout = 1000\n")
        let result = try Self.send(route, try mail.signedByDkimpy(Array(Self.post.utf8), selector: "rs"))
        #expect(result.status == 75, "\(result.stderr)")
        #expect(route.outgoing.isEmpty && Self.held(route).isEmpty)
    }

    /// The ARC control fields of the copies in outgoing/.
    static func arcFields(_ route: RouteFixture) throws -> [(seal: String?, results: String?)] {
        try route.copies().map { bytes in
            let message = try Message(parsing: bytes)
            return (message.control(.arcSeal), message.control(.arcResults))
        }
    }

    @Test func copiesOfAListWithAKeyAskDeliverToSealThem() throws {
        let mail = try SignedMail()
        let config = "dkim = site.example:s1:/etc/postroom/s1.key\nauthserv_id = mx.site.example\n"
        let route = try Self.fixture("", config: config, mail: mail)
        // This site's MTA checked SPF; another id's results are not trusted.
        let post =
            "Authentication-Results: mx.site.example; spf=pass smtp.mailfrom=teacher@example.org\n"
            + "Authentication-Results: evil.example; dkim=pass header.d=bank.example\n" + Self.post
        let result = try Self.send(route, try mail.signedByDkimpy(Array(post.utf8), selector: "ed"))
        #expect(result.status == 0, "\(result.stderr)")
        let fields = try Self.arcFields(route)
        #expect(fields.count == 2)
        for field in fields {
            #expect(field.seal == "site.example 1 none")
            let results = field.results ?? ""
            #expect(
                results.hasPrefix("mx.site.example; dkim=pass header.d=example.org header.s=ed header.b="), "\(results)"
            )
            #expect(results.hasSuffix("; spf=pass smtp.mailfrom=teacher@example.org; arc=none"), "\(results)")
            #expect(!results.contains("bank.example"))
        }
        #expect(try route.log().contains("ARC i=1 cv=none"))
    }

    @Test func aChainSealedBeforeContinuesAndABrokenOneIsSealedAsFailed() throws {
        let mail = try SignedMail()
        let route = try Self.fixture("", config: "dkim = site.example:s1:/etc/postroom/s1.key\n", mail: mail)
        let sealed = String(decoding: try VerifyCommandTests.sealed(mail, times: 1), as: UTF8.self)
        #expect(try Self.send(route, Array(sealed.utf8)).status == 0)
        #expect(try Self.arcFields(route).map(\.seal) == ["site.example 2 pass", "site.example 2 pass"])
        #expect(try Self.arcFields(route).first?.results?.hasPrefix("site.example; dkim=pass") == true)

        let broken = sealed.replacingOccurrences(of: "Bring lunch", with: "Bring money")
        let second = try Self.fixture("", config: "dkim = site.example:s1:/etc/postroom/s1.key\n", mail: mail)
        #expect(try Self.send(second, Array(broken.utf8)).status == 0)
        #expect(try Self.arcFields(second).map(\.seal) == ["site.example 2 fail", "site.example 2 fail"])
    }

    @Test func withoutAKeyOrWithArcNoNothingIsAskedAndVerifyIsNotRun() throws {
        let mail = try SignedMail()
        // route alone in a directory: a list that needs verify cannot find it (75), the others never look.
        let alone = TemporaryDirectory("route-alone")
        let copy = alone.path + "/route"
        // Copied through a close-on-exec descriptor (Files.write): Foundation's copy left one that a
        // program another test spawned meanwhile inherited, and running the copy failed with ETXTBSY.
        try Files.write(copy, try Files.read(Run.binary("route")))
        chmod(copy, 0o755)
        for (options, config, status) in [
            ("", "", Int32(0)), ("arc=no", "dkim = site.example:s1:/k\n", 0), ("arc=yes", "", 75),
            ("require_signature=yes", "", 75),
        ] {
            let route = try Self.fixture(options, config: config, mail: mail)
            let result = try Run.program(
                copy,
                [
                    "--spool", route.spool.root, "--rules", route.rules, "--config", route.config, "--recipient",
                    "parents@site.example", "--sender", "teacher@example.org",
                ], input: Array(Self.post.utf8))
            #expect(result.status == status, "\(options) \(config): \(result.stderr)")
            if status == 0 {
                #expect(try Self.arcFields(route).allSatisfy { $0.seal == nil && $0.results == nil })
            } else {
                #expect(result.stderr.contains("the verify program is missing"), "\(result.stderr)")
            }
        }
    }
}
