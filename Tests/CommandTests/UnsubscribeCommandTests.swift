import Foundation
import Postroom
import TestSupport
import Testing

/// A spool, an unsubscribe key and a postroom.conf naming them, for the built programs.
final class UnsubscribeCommandSite {
    let directory = TemporaryDirectory("unsub-command")
    let spool: Spool
    let config: String
    let key = UnsubscribeKey(Array("test unsubscribe secret".utf8))

    init(_ extra: String = "") throws {
        spool = try directory.spool()
        let keyPath = directory.file("unsubscribe.key")
        try Files.write(keyPath, "test unsubscribe secret\n")
        chmod(keyPath, 0o600)
        config = directory.file("postroom.conf")
        try Files.write(config, "spool = \(spool.root)\nunsubscribe_key_file = \(keyPath)\n" + extra)
    }

    func token(_ address: String, list: String? = nil, issued: Timestamp = .now()) -> String {
        UnsubscribeToken(address: address, list: list, issued: issued).text(signedWith: key)
    }

    func mark(_ arguments: [String]) throws -> ProcessResult {
        try Run.program("mark", arguments + ["--config", config])
    }

    var suppress: String { (try? Files.text(spool.suppressPath)) ?? "" }
    var suppressLines: [String] { suppress.split(separator: "\n").map(String.init) }
    var log: String { (try? Files.text(spool.logPath)) ?? "" }
}

/// `mark --unsubscribe TOKEN`, as the web endpoint behind the one-click URL runs it.
@Suite struct MarkUnsubscribeCommandTests {
    @Test func aGoodTokenSuppressesTheAddressAndSaysSo() throws {
        let site = try UnsubscribeCommandSite()
        let result = try site.mark(["--unsubscribe", site.token("Ada@Example.org")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "mark: <ada@example.org> unsubscribed (all mail, via link)\n")
        #expect(site.suppressLines.count == 1)
        #expect(site.suppressLines.first?.hasPrefix("ada@example.org 20") == true)
        #expect(site.log.contains("to=<ada@example.org>, status=unsubscribed (all mail, via link)"))
        // The same click again: exit 0, one line.
        #expect(try site.mark(["--unsubscribe", site.token("ada@example.org")]).status == 0)
        #expect(site.suppressLines.count == 1)
    }

    @Test func aListTokenWritesAScopedEntry() throws {
        let site = try UnsubscribeCommandSite()
        let result = try site.mark(["--unsubscribe=" + site.token("kid@example.com", list: "S1234-students@site")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(site.suppressLines.first?.hasPrefix("kid@example.com list=s1234-students@site 20") == true)
        #expect(site.log.contains("status=unsubscribed (list=s1234-students@site, via link)"))
    }

    @Test(arguments: ["forged", "expired", "future", "garbage", "old format"])
    func aBadTokenExits77AndChangesNothing(kind: String) throws {
        let site = try UnsubscribeCommandSite("unsubscribe_token_lifetime = 30d\n")
        try Files.write(site.spool.suppressPath, "# kept as it is\nold@example.org\n")
        let now = Timestamp.now()
        let token: String
        let reason: String
        switch kind {
        case "forged":
            token = UnsubscribeToken(address: "ada@example.org", issued: now).text(
                signedWith: UnsubscribeKey(Array("a guess".utf8)))
            reason = "signature does not match"
        case "expired":
            token = site.token("ada@example.org", issued: Timestamp(seconds: now.seconds - 32 * 86_400))
            reason = "the token expired"
        case "future":
            token = site.token("ada@example.org", issued: Timestamp(seconds: now.seconds + 3 * 86_400))
            reason = "dated in the future"
        case "garbage":
            token = "'; rm -rf / #\u{7f}"
            reason = "not an unsubscribe token"
        default:
            token = "lR_M0Ffzk2hvwItkpjV8zYRoDlbAoEB6rTNXLnrcrP8"
            reason = "not an unsubscribe token"
        }
        let result = try site.mark(["--unsubscribe", token])
        #expect(result.status == 77, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("mark: unsubscribe refused: "), "\(result.stderr)")
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(site.suppress == "# kept as it is\nold@example.org\n")
        #expect(site.log.contains("status=refused (unsubscribe: "), "\(site.log)")
    }

    @Test func withoutAKeyMarkExits75AndSaysWhatIsMissing() throws {
        let directory = TemporaryDirectory()
        let spool = try directory.spool()
        let result = try Run.program("mark", ["--unsubscribe", "x.y", "--spool", spool.root])
        #expect(result.status == 75)
        #expect(result.stderr.contains("unsubscribe_key_file is not set"), "\(result.stderr)")
    }

    /// 100 processes add at once, each a different address: every line is there, once.
    @Test func concurrentMarksLoseNoLine() throws {
        let site = try UnsubscribeCommandSite()
        try Files.write(site.spool.suppressPath, "# hand-written first line\n")
        let addresses = (1...100).map { "student\($0)@example.org" }
        let runs = try Run.concurrently(
            "mark", addresses.map { ["--unsubscribe", site.token($0), "--config", site.config] },
            outputDirectory: site.directory)
        #expect(runs.filter { $0.status != 0 }.map(\.output) == [])
        let lines = site.suppressLines
        #expect(lines.first == "# hand-written first line")
        let suppressed = lines.dropFirst().map { String($0.prefix { $0 != " " }) }
        #expect(suppressed.count == 100)
        #expect(Set(suppressed) == Set(addresses))
        #expect(site.log.split(separator: "\n").filter { $0.contains("status=unsubscribed") }.count == 100)
    }
}

/// route's `unsubscribe` handler: `mailto:` requests, the token in the subject.
@Suite struct RouteUnsubscribeCommandTests {
    func fixture() throws -> (RouteFixture, UnsubscribeCommandSite) {
        let route = try RouteFixture(rules: "^unsubscribe$ unsubscribe\n^.*$ reject\n")
        let site = try UnsubscribeCommandSite()
        try route.configure(
            try Files.text(site.config).replacingOccurrences(of: site.spool.root, with: route.spool.root))
        return (route, site)
    }

    func request(subject: String, body: String = "Please remove me.\n") -> String {
        "From: Kid <kid@example.com>\nTo: unsubscribe@site.example\nSubject: \(subject)\n\n\(body)"
    }

    func suppress(_ route: RouteFixture) -> String { (try? Files.text(route.spool.suppressPath)) ?? "" }

    @Test func theTokenInTheSubjectUnsubscribes() throws {
        let (route, site) = try fixture()
        let token = site.token("kid@example.com", list: "s1234-students@site.example")
        let result = try route.route(
            request(subject: "Re: unsubscribe kid@example.com s1234-students@site.example \(token)"),
            recipient: "unsubscribe@site.example", sender: "kid@example.com")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(suppress(route).hasPrefix("kid@example.com list=s1234-students@site.example "))
        #expect(suppress(route).contains("unsubscribed (mailto from <kid@example.com>, token of "))
        let log = try route.log()
        #expect(log.contains("to=<kid@example.com>, status=unsubscribed (list=s1234-students@site.example, via mailto"))
        #expect(log.contains("status=marked"))
        #expect(route.outgoing.isEmpty)
    }

    @Test func theTokenOnTheFirstBodyLineUnsubscribes() throws {
        let (route, site) = try fixture()
        let result = try route.route(
            request(
                subject: "please unsubscribe me", body: "\n  unsubscribe \(site.token("ada@example.org"))\r\nthanks\n"),
            recipient: "unsubscribe@site.example", sender: "ada@example.org")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(suppress(route).hasPrefix("ada@example.org 20"))
    }

    @Test func aMissingOrForgedTokenExits77WithTheReason() throws {
        let (route, site) = try fixture()
        defer { withExtendedLifetime(site) {} }
        let missing = try route.route(
            request(subject: "unsubscribe"), recipient: "unsubscribe@site.example", sender: "kid@example.com")
        #expect(missing.status == 77)
        #expect(missing.stderr.contains("no unsubscribe token in the subject"), "\(missing.stderr)")
        let forged = UnsubscribeToken(address: "victim@example.org", issued: .now()).text(
            signedWith: UnsubscribeKey(Array("guess".utf8)))
        let refused = try route.route(
            request(subject: "unsubscribe victim@example.org \(forged)"), recipient: "unsubscribe@site.example",
            sender: "mallory@example.net")
        #expect(refused.status == 77)
        #expect(refused.stderr.contains("signature does not match"), "\(refused.stderr)")
        #expect(suppress(route).isEmpty)
        #expect(try route.log().contains("to=?, via=mailto from <mallory@example.net>, status=refused"))
    }

    @Test func nullSenderMailIsDroppedNotAnswered() throws {
        let (route, site) = try fixture()
        let result = try route.route(
            request(subject: "Undeliverable: unsubscribe \(site.token("ada@example.org"))"),
            recipient: "unsubscribe@site.example", sender: "")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(suppress(route).isEmpty)
        #expect(try route.log().contains("status=dropped"))
    }

    @Test func checkNeedsTheKey() throws {
        let route = try RouteFixture(rules: "^unsubscribe$ unsubscribe\n")
        let check = try Run.program("route", ["--check", "--rules", route.rules, "--config", route.config])
        #expect(check.status != 0)
        #expect(
            check.stdout.contains("unsubscribe_key_file is not set")
                || check.stderr.contains("unsubscribe_key_file is not set"))
    }
}

/// A list post through the built `route` skips suppressed members; `expand` ignores list entries.
@Suite struct ScopedSuppressionCommandTests {
    @Test func aListPostSkipsMembersWhoLeftThatList() throws {
        let route = try RouteFixture(rules: "^(S[0-9]+)-students$ list lists/$1-students\n")
        try FileManager.default.createDirectory(
            atPath: route.directory.file("lists"), withIntermediateDirectories: false)
        try Files.write(
            route.directory.file("lists/S1234-students"),
            "ann@example.org\nbo@example.org\ncy@example.net\nteacher@school.example\n")
        try Files.write(
            route.spool.suppressPath,
            "bo@example.org list=s1234-students@site.example 2026-12-02 unsubscribed\n"
                + "cy@example.net list=s9-students@site.example 2026-12-02 unsubscribed\n")
        let post = "From: teacher@school.example\nTo: S1234-students@site.example\nSubject: s\n\nx\n"
        let result = try route.route(post, recipient: "S1234-students@site.example", sender: "teacher@school.example")
        #expect(result.status == 0, "\(result.stderr)")
        let recipients = try route.copies().flatMap { RouteFixture.values("X-Postroom-Envelope-To", in: $0) }.sorted()
        #expect(recipients == ["<ann@example.org>", "<cy@example.net>"])
        let log = try route.log()
        #expect(log.contains("2 copies; 1 suppressed"), "\(log)")
    }
}
