import Foundation
import Postroom
import TestSupport
import Testing

/// route's exit-code table, row by row: 0 copies durable, 67 no rule or reject, 65 not a
/// message, 75 every local failure; and the envelope as Exim and Postfix pass it.
@Suite struct RouteExitCodeTests {
    static let rules = """
        # aliases
        ^alias$ redirect one@example.org two@example.org
        ^single$ redirect one@example.org
        ^closed$ reject "this list is closed; write to office@site.example"
        """

    static let message = "From: poster@example.net\nTo: alias@site.example\nSubject: hello\n\nBody.\n"

    @Test func aRoutedMessageIsDurableInOutgoingWithItsEnvelope() throws {
        let route = try RouteFixture(rules: Self.rules)
        let result = try route.route(Self.message)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let copies = try route.copies()
        try #require(copies.count == 2)
        let expectedBody = "Delivered-To: alias@site.example\nX-Loop: alias@site.example\n" + Self.message
        for (copy, target) in zip(copies, ["one@example.org", "two@example.org"]) {
            #expect(RouteFixture.values("X-Postroom-Envelope-From", in: copy) == ["<poster@example.net>"])
            #expect(RouteFixture.values("X-Postroom-Envelope-To", in: copy) == ["<\(target)>"])
            #expect(String(decoding: RouteFixture.withoutControlFields(copy), as: UTF8.self) == expectedBody)
        }
        // Nothing left half-written, and the decision is in the log.
        #expect(Files.list(route.spool.maildir(.outgoing).path(of: .tmp)).isEmpty)
        let log = try route.log()
        #expect(log.contains("to=<alias@site.example>, from=<poster@example.net>, rule=2, copies=2, status=routed"))
        #expect(log.contains("to=<two@example.org>, orig_to=<alias@site.example>"))
    }

    @Test func noRuleAndRejectExit67WithTheTextOnStandardError() throws {
        let route = try RouteFixture(rules: Self.rules)
        let unknown = try route.route(Self.message, recipient: "nobody@site.example")
        #expect(unknown.status == 67)
        #expect(unknown.stderr.contains("<nobody@site.example>: no such address here (no rule matches)"))
        let closed = try route.route(Self.message, recipient: "closed@site.example")
        #expect(closed.status == 67)
        #expect(closed.stderr == "route: this list is closed; write to office@site.example\n")
        #expect(route.outgoing.isEmpty)
        #expect(try route.log().contains("status=refused (this list is closed"))
    }

    /// Inputs that are not a message, and the reason route gives.
    static let notMessages: [(String, [UInt8], String)] = [
        ("garbage", Array("just some words\nand more\n".utf8), "\"just some words\" is not a header field"),
        ("empty", [], "the input is empty"),
        ("NUL byte", Array("From: a@example.net\n\nbody \u{0} here\n".utf8), "line 3: contains a NUL byte"),
        (
            "no separator", Array("From: a@example.net\nSubject: x\nthe body starts here\n".utf8),
            "line 3: \"the body starts here\" is not a header field"
        ),
        ("blank first line", Array("\nFrom: a@example.net\n\nbody\n".utf8), "starts with an empty line"),
        ("continuation first", Array(" folded: x\nFrom: a@example.net\n\nbody\n".utf8), "continuation line"),
        ("bare CR", Array("From: a@example.net\rSubject: x\n\nbody\n".utf8), "a CR not followed by LF"),
        ("binary", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], "contains a NUL byte"),
    ]

    @Test(arguments: notMessages.indices)
    func notAMessageExits65WithTheReason(index: Int) throws {
        let (label, input, reason) = Self.notMessages[index]
        let route = try RouteFixture(rules: Self.rules)
        let result = try route.route(input, recipient: "single@site.example")
        #expect(result.status == 65, "\(label): \(result.stderr)")
        #expect(result.stderr.contains(reason), "\(label): \(result.stderr)")
        #expect(route.outgoing.isEmpty)
    }

    /// A local failure: what breaks, and words the error must contain.
    enum LocalFailure: String, CaseIterable, Sendable {
        case missingRuleTable, badPattern, unknownHandler, spoolMissing, routeDirectoryIsAFile
        case logIsADirectory, outgoingIncomplete, noRecipient, unknownOption, unknownConfigKey, missingConfig
    }

    @Test(arguments: LocalFailure.allCases)
    func everyLocalFailureExits75(failure: LocalFailure) throws {
        let route = try RouteFixture(rules: Self.rules)
        var recipient: String? = "single@site.example"
        var extra: [String] = []
        let expected: String
        switch failure {
        case .missingRuleTable:
            try Files.remove(route.rules)
            expected = "cannot read the rule table"
        case .badPattern:
            // A pattern is compiled when a message reaches it (route --check compiles them all).
            try Files.write(route.rules, "^nomatch$ redirect one@example.org\n^(si( redirect x@example.org\n")
            expected = "line 2: the pattern does not compile"
        case .unknownHandler:
            try Files.write(route.rules, "^single$ frobnicate one@example.org\n")
            expected = "line 1: unknown handler \"frobnicate\""
        case .spoolMissing:
            try Files.remove(route.spool.root)
            expected = "no spool here"
        case .routeDirectoryIsAFile:
            // A spool that cannot take the copies (root ignores chmod, so a file stands in the way).
            try Files.write(route.spool.root + "/route", "not a directory")
            expected = "route: Not a directory"
        case .logIsADirectory:
            try Files.remove(route.spool.logPath)
            try FileManager.default.createDirectory(atPath: route.spool.logPath, withIntermediateDirectories: false)
            expected = "log"
        case .outgoingIncomplete:
            let new = route.spool.maildir(.outgoing).path(of: .new)
            try Files.remove(new)
            try Files.write(new, "not a directory")
            expected = "the spool is incomplete"
        case .noRecipient:
            recipient = nil
            expected = "no envelope recipient"
        case .unknownOption:
            extra = ["--frobnicate"]
            expected = "unknown argument \"--frobnicate\""
        case .unknownConfigKey:
            try route.configure("spool = /var/spool/postroom\nfrobnicate = yes\n")
            expected = "line 2: unknown key \"frobnicate\""
        case .missingConfig:
            extra = ["--config", route.directory.file("missing.conf")]
            expected = "missing.conf"
        }
        let result = try route.route(Self.message, recipient: recipient, extra)
        #expect(result.status == 75, "\(failure): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(expected), "\(failure): \(result.stderr)")
        #expect(route.outgoing.isEmpty)
        if failure == .routeDirectoryIsAFile {
            // Past the log's opening, the log says why the MTA will retry.
            let log = try route.log()
            #expect(log.contains("status=deferred (") && log.contains("route: Not a directory"), "\(log)")
        }
    }

    @Test func theEnvelopeComesFromTheMTAEnvironment() throws {
        let route = try RouteFixture(rules: "^(alias|alias\\+tag)$ redirect one@example.org\n")
        // "Delivered-To X-Postroom-Envelope-From" of the copy route made.
        func routed(_ environment: [String: String], sender: String? = nil, _ extra: [String] = []) throws -> String {
            let before = Set(route.outgoing)
            let body = "From: a@example.net\nSubject: \(environment.sorted { $0.key < $1.key })\(extra)\n\nx\n"
            let result = try route.route(body, recipient: nil, sender: sender, extra, environment: environment)
            #expect(result.status == 0, "\(environment): \(result.stderr)")
            guard let copy = route.outgoing.first(where: { !before.contains($0) }) else { return "no copy" }
            let bytes = try Files.read(copy)
            return
                (RouteFixture.values("Delivered-To", in: bytes)
                + RouteFixture.values("X-Postroom-Envelope-From", in: bytes))
                .joined(separator: " ")
        }
        // Exim's pipe transport.
        #expect(
            try routed(["RECIPIENT": "alias@site.example", "SENDER": "s@example.net"])
                == "alias@site.example <s@example.net>")
        #expect(
            try routed([
                "LOCAL_PART": "alias", "LOCAL_PART_SUFFIX": "+tag", "DOMAIN": "site.example", "SENDER": "s@example.net",
            ])
                == "alias+tag@site.example <s@example.net>")
        // Postfix's local(8) without RECIPIENT.
        #expect(try routed(["ORIGINAL_RECIPIENT": "Alias@site.example"]) == "Alias@site.example <>")
        // The null sender, from the environment and from the option; the option wins.
        #expect(try routed(["RECIPIENT": "alias@site.example", "SENDER": ""]) == "alias@site.example <>")
        #expect(
            try routed(["RECIPIENT": "alias@site.example", "SENDER": "s@example.net"], sender: "")
                == "alias@site.example <>")
        #expect(
            try routed(["RECIPIENT": "alias@site.example"], ["--recipient", "alias+tag@site.example"])
                == "alias+tag@site.example <>")
    }

    @Test func helpAndTheUsageAreInTheTable() throws {
        let route = try RouteFixture(rules: Self.rules)
        let help = try route.route([], recipient: nil, sender: nil, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("usage: route"))
        let missingValue = try route.route(Self.message, recipient: nil, sender: nil, ["--recipient"])
        #expect(missingValue.status == 75)
        #expect(missingValue.stderr.contains("--recipient needs a value"))
    }
}
