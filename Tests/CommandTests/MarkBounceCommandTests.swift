import Foundation
import Postroom
import TestSupport
import Testing

/// `mark --bounce` and route's `bounce` handler as the MTA runs them: the bounce on standard
/// input, the address it came back to in `--recipient` or `RECIPIENT`.
@Suite struct MarkBounceCommandTests {
    static let name = "1764662400.M123456P789Q1.mail.school.example"
    static let verp = "bounces+\(name)@school.example"

    static func fixture(_ file: String) throws -> [UInt8] {
        Array(try Files.text(Files.repositoryPath("Tests/Fixtures/bounces/\(file)")).utf8)
    }

    /// A spool whose sent/cur holds the message the fixtures bounce, sent to `recipient`.
    static func sentSpool(_ route: RouteFixture, to recipient: String) throws {
        let path = route.spool.maildir(.sent).path(of: MessageName(base: name, flags: "L"), in: .cur)
        try Files.write(path, "X-Postroom-Envelope-To: \(recipient)\nTo: \(recipient)\n\nHi\n")
    }

    func sentFiles(_ route: RouteFixture) -> [String] { Files.list(route.spool.maildir(.sent).path(of: .cur)) }

    @Test func markRecordsABounceFromStandardInput() throws {
        let route = try RouteFixture(rules: "")
        try Self.sentSpool(route, to: "nosuch@member.test")
        let result = try Run.program(
            "mark", ["--bounce", "--spool", route.spool.root, "--config", route.config],
            input: try Self.fixture("exim-dsn.eml"), environment: ["RECIPIENT": Self.verp, "SENDER": ""])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("suppressed"), "\(result.stderr)")
        #expect(sentFiles(route) == ["\(Self.name):2,BL"])
        #expect(try SuppressFile(spool: route.spool).read().contains("nosuch@member.test"))
        // The MTA delivers it again: nothing more changes, and it still exits 0.
        let again = try Run.program(
            "mark", ["--bounce", "--spool", route.spool.root, "--config", route.config, "--recipient", Self.verp],
            input: try Self.fixture("exim-dsn.eml"))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try SuppressFile(spool: route.spool).read().count == 1)
    }

    @Test func markExitsAsTheContractSays() throws {
        let route = try RouteFixture(rules: "")
        // Not a message: 65.
        let garbage = try Run.program(
            "mark", ["--bounce", "--spool", route.spool.root, "--config", route.config, "--recipient", Self.verp],
            input: Array("\n\nnot a message".utf8))
        #expect(garbage.status == 65, "\(garbage.stderr)")
        // A broken setting is the site's to fix: the MTA keeps the bounce (75).
        try route.configure("bounce_days = none\n")
        let broken = try Run.program(
            "mark", ["--bounce", "--spool", route.spool.root, "--config", route.config, "--recipient", Self.verp],
            input: try Self.fixture("exim-dsn.eml"))
        #expect(broken.status == 75, "\(broken.stderr)")
        #expect(broken.stderr.contains("bounce_days"), "\(broken.stderr)")
    }

    @Test func routesBounceHandlerRecordsWhatMarkWould() throws {
        let route = try RouteFixture(rules: "^(.+)-bounces(\\+.*)?$ bounce\n^bounces(\\+.*)?$ bounce\n")
        try Self.sentSpool(route, to: "slow@member.test")
        // --explain names the handler and the file, and writes nothing.
        let explained = try route.route("", recipient: nil, sender: nil, ["--explain", Self.verp])
        #expect(explained.status == 0, "\(explained.stderr)")
        #expect(explained.stdout.contains(": line 2: bounce "), "\(explained.stdout)")
        #expect(explained.stdout.contains("name=\(Self.name)"), "\(explained.stdout)")
        #expect(sentFiles(route) == ["\(Self.name):2,L"])

        let delayed = try route.route(try Self.fixture("postfix-delayed.eml"), recipient: Self.verp, sender: nil)
        #expect(delayed.status == 0, "\(delayed.stderr)")
        #expect(sentFiles(route) == ["\(Self.name):2,LW"])
        let list = try route.route(
            try Self.fixture("gmail-dsn.eml"), recipient: "S1-students-bounces+kid=example.com@site.example",
            sender: nil)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(try SuppressFile(spool: route.spool).read().contains("kid@example.com"))
        let log = try Files.text(route.spool.logPath)
        #expect(log.contains("\(Self.name): to=<slow@member.test>, dsn=4.4.1"), "\(log)")
        #expect(log.contains("to=<kid@example.com>, status=suppressed"), "\(log)")
        // Nothing is queued for delivery by a bounce.
        #expect(route.outgoing.isEmpty)
    }
}
