import Foundation
import Postroom
import TestSupport
import Testing

/// The list handler through the built `route`: copies per member, held posts, the 77 row.
@Suite struct RouteListCommandTests {
    static let post = """
        From: Ann Member <ann@example.org>
        To: S1234-students@site.example
        Subject: Re: [S1234] Field trip
        Message-ID: <trip-2@example.org>

        Bring lunch.

        """

    func fixture(_ options: String = "") throws -> RouteFixture {
        let route = try RouteFixture(rules: "^(S[0-9]+)-students$ list lists/$1-students tag=[$1] \(options)\n")
        try FileManager.default.createDirectory(
            atPath: route.directory.file("lists"), withIntermediateDirectories: false)
        try Files.write(
            route.directory.file("lists/S1234-students"),
            "ann@example.org\nBo Brown <bo@example.org>\ncy@example.net\nBO@example.org\n")
        return route
    }

    @Test func aMemberPostBecomesOneTaggedCopyPerOtherMember() throws {
        let route = try fixture()
        let result = try route.route(Self.post, recipient: "S1234-students@site.example", sender: "ann@example.org")
        #expect(result.status == 0, "\(result.stderr)")
        let copies = try route.copies()
        #expect(copies.count == 2)
        let recipients = copies.flatMap { RouteFixture.values("X-Postroom-Envelope-To", in: $0) }.sorted()
        #expect(recipients == ["<bo@example.org>", "<cy@example.net>"])
        for copy in copies {
            #expect(RouteFixture.values("Subject", in: copy) == ["[S1234] Re: Field trip"])
            #expect(RouteFixture.values("Message-ID", in: copy) == ["<trip-2@example.org>"])
            let sender = RouteFixture.values("X-Postroom-Envelope-From", in: copy).first ?? ""
            #expect(sender.hasPrefix("<S1234-students-bounces+"), "\(sender)")
        }
        // The MTA retries: nothing more.
        let retry = try route.route(Self.post, recipient: "S1234-students@site.example", sender: "ann@example.org")
        #expect(retry.status == 0)
        #expect(try route.copies().count == 2)
    }

    @Test func aNonMemberPostIsHeldWithExit0() throws {
        let route = try fixture()
        let outsider = Self.post.replacingOccurrences(of: "Ann Member <ann@example.org>", with: "x@elsewhere.example")
        let result = try route.route(outsider, recipient: "S1234-students@site.example", sender: "x@elsewhere.example")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(route.outgoing.isEmpty)
        #expect(Files.list(route.spool.maildir(.held).path(of: .new)).count == 1)
        let log = try route.log()
        #expect(log.contains("copies=1, status=held (list "), "\(log)")
        let status = try Run.program("postroom", ["status", "--spool", route.spool.root])
        #expect(status.stdout.contains("held"), "\(status.stdout)")
    }

    /// With `nonmembers=reject` the posting policy refuses: exit 77, which Postfix and Exim bounce.
    @Test func aRefusingPolicyExits77() throws {
        let route = try fixture("nonmembers=reject")
        let outsider = Self.post.replacingOccurrences(of: "Ann Member <ann@example.org>", with: "x@elsewhere.example")
        let result = try route.route(outsider, recipient: "S1234-students@site.example", sender: "x@elsewhere.example")
        #expect(result.status == 77, "\(result.stderr)")
        #expect(result.stderr.contains("does not take posts from this address"), "\(result.stderr)")
        // The bounce the poster gets names no file of this machine.
        #expect(result.stderr.contains("x@elsewhere.example may not post: not a member;"), "\(result.stderr)")
        #expect(!result.stderr.contains("lists/"), "\(result.stderr)")
        #expect(route.outgoing.isEmpty)
        #expect(Files.list(route.spool.maildir(.held).path(of: .new)).isEmpty)
    }
}

/// The envelope sender as MTAs pass it.
@Suite struct RouteSenderTests {
    @Test(arguments: ["MAILER-DAEMON", "mailer-daemon", ""])
    func postfixsNullSenderIsTheNullSender(sender: String) throws {
        let route = try RouteFixture(rules: "^alias$ redirect member@example.org\n")
        let result = try route.route("From: x@example.net\nSubject: bounce\n\nx\n", sender: sender)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try route.copies().flatMap { RouteFixture.values("X-Postroom-Envelope-From", in: $0) } == ["<>"])
    }

    @Test(arguments: ["a b@example.net", "<x@example.net>", "x@"])
    func aSenderSMTPCannotCarryIsBadInput(sender: String) throws {
        let route = try RouteFixture(rules: "^alias$ redirect member@example.org\n")
        let result = try route.route("From: x@example.net\nSubject: s\n\nx\n", sender: sender)
        #expect(result.status == 65, "\(sender): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains("is not an address SMTP can carry"), "\(result.stderr)")
        #expect(route.outgoing.isEmpty)
    }
}

/// DMARC through the built `route`: `dns_server` names a real dnsmasq on 127.0.0.1.
@Suite struct RouteDMARCCommandTests {
    static func post(from: String) -> String {
        "From: Teacher <teacher@\(from)>\nTo: S1234-students@site.example\nSubject: Trip\nMessage-ID: <t@x>\n\nHi\n"
    }

    @Test func aPosterWhoseDomainRejectsIsRewrittenOthersAreNot() throws {
        let dns = try DNSMasqServer(
            records: [
                .init("_dmarc.strict.example", "v=DMARC1; p=reject"), .init("_dmarc.lax.example", "v=DMARC1; p=none"),
            ], localDomains: ["strict.example", "lax.example"])
        let route = try RouteFixture(rules: "^(S[0-9]+)-students$ list lists/$1-students posters=anyone\n")
        try FileManager.default.createDirectory(
            atPath: route.directory.file("lists"), withIntermediateDirectories: false)
        try Files.write(route.directory.file("lists/S1234-students"), "kid@example.org\n")
        try route.configure("dns_server = \(dns.server)\ndns_timeout = 1000\n")
        for (domain, rewritten) in [("strict.example", true), ("lax.example", false)] {
            let before = Set(route.outgoing)
            let result = try route.route(
                Self.post(from: domain), recipient: "S1234-students@site.example", sender: "teacher@\(domain)")
            #expect(result.status == 0, "\(result.stderr)")
            let new = try #require(route.outgoing.first { !before.contains($0) })
            let from = RouteFixture.values("From", in: try Files.read(new))
            if rewritten {
                #expect(from == ["\"Teacher via S1234-students\" <S1234-students@site.example>"], "\(from)")
            } else {
                #expect(from == ["Teacher <teacher@\(domain)>"], "\(from)")
            }
        }
    }

    /// A DNS server that never answers: with `dmarc_lookup_failure = defer` the MTA retries (75).
    @Test func aLookupThatTimesOutDefersWhenSoConfigured() throws {
        let silent = try SilentUDPServer()
        let route = try RouteFixture(rules: "^(S[0-9]+)-students$ list lists/$1-students posters=anyone\n")
        try FileManager.default.createDirectory(
            atPath: route.directory.file("lists"), withIntermediateDirectories: false)
        try Files.write(route.directory.file("lists/S1234-students"), "kid@example.org\n")
        try route.configure(
            "dns_server = 127.0.0.1:\(silent.port)\ndns_timeout = 1000\ndmarc_lookup_failure = defer\n")
        let result = try route.route(
            Self.post(from: "slow.example"), recipient: "S1234-students@site.example", sender: "teacher@slow.example")
        #expect(result.status == 75, "\(result.stderr)")
        #expect(route.outgoing.isEmpty)
    }
}
