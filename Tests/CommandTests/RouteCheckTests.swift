import Foundation
import Postroom
import TestSupport
import Testing

/// `route --check` reports every problem of a table with its line; `--explain` shows what would
/// happen and writes nothing.
@Suite struct RouteCheckTests {
    @Test func checkListsEveryProblemWithItsLineAndExits78() throws {
        let route = try RouteFixture(
            rules: """
                # line 1 is a comment
                ^ok$ redirect one@example.org
                ^a( redirect x@example.org
                ^b$ frob x
                ^c$ redirect
                ^d$ redirect not-an-address
                ^e$ forward users
                ^f$ reject "unclosed
                ^g$ redirect x@example.org color=red
                lonely
                ^h$ maildir /nonexistent-postroom-test/dir/x
                """)
        try Files.write(route.directory.file("users"), "alice alice@example.org\nbroken line here\n")
        let result = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(result.status == 78)
        let expected = [
            "rules line 3: the pattern does not compile: \"^a(\"",
            "rules line 4: unknown handler \"frob\"; known handlers: list, redirect, forward, maildir, reject",
            "rules line 5: redirect takes at least 1 argument(s), found 0",
            "rules line 6: \"not-an-address\" is not an address",
            "users line 2: expected 'username address', found \"broken line here\"",
            "rules line 8: a double quote is not closed",
            "rules line 9: redirect has no option \"color\"",
            "rules line 10: a rule is PATTERN HANDLER [ARGUMENT...]; found only \"lonely\"",
            "rules line 11: the maildir /nonexistent-postroom-test/dir/x cannot be created",
        ]
        for problem in expected {
            #expect(result.stderr.contains(problem), "missing \(problem) in:\n\(result.stderr)")
        }
        #expect(
            !result.stderr.contains("rules line 2:") && !result.stderr.contains("rules line 1:"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == expected.count, "\(result.stderr)")
    }

    @Test func aMisspelledMailLoopIsAnErrorNotTheDefault() throws {
        let route = try RouteFixture(rules: "^list$ redirect member@example.org\nlonely\n")
        try route.configure("mail_loop = bunce\n")
        let check = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(check.status == 78)
        #expect(check.stderr.contains("postroom.conf: mail_loop is drop or bounce, not \"bunce\""), "\(check.stderr)")
        #expect(check.stderr.contains("rules line 2:"), "\(check.stderr)")
        let looped = "X-Loop: list@site.example\nFrom: a@example.net\n\nx\n"
        let result = try route.route(looped, recipient: "list@site.example")
        #expect(result.status == 75)
        #expect(result.stderr.contains("mail_loop is drop or bounce"), "\(result.stderr)")
    }

    @Test func checkPassesAGoodTableAndExits0() throws {
        let route = try RouteFixture(rules: "# aliases\n^ok$ redirect one@example.org\n\n^archive$ maildir archive\n")
        let result = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("rules: 2 rules, no problems\n"), "\(result.stdout)")
        try Files.remove(route.rules)
        let missing = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("cannot read the rule table"))
    }

    /// A member file named through captures is checked in every file its template can name.
    @Test func checkReadsEveryMemberFileATemplatedListCanName() throws {
        let route = try RouteFixture(
            rules: "^(S[0-9]+)-(students|teachers)$ list lists/$1-$2 tag=[$1]\n^one$ redirect a@example.org\n")
        let lists = route.directory.file("lists")
        try FileManager.default.createDirectory(atPath: lists, withIntermediateDirectories: true)
        try Files.write(lists + "/S1-students", "ann@example.org\nnot an address\n")
        try Files.write(lists + "/S2-teachers", "Tom <tom@example.org>\n")
        // Not a name the template can make: not a member file, not read.
        try Files.write(lists + "/README", "the class lists, one file each\n")
        let result = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(result.status == 78)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(
            lines.first?.hasSuffix(
                "rules line 1: \(lists)/S1-students line 2: \"not an address\" is not an address: malformed address: \"not\" has no @domain in \"not an address\""
            ) == true, "\(result.stderr)")

        try Files.write(lists + "/S1-students", "ann@example.org\n")
        let clean = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stdout.hasSuffix("rules: 2 rules, no problems\n"), "\(clean.stdout)")
    }

    /// `$3` in a rule whose pattern has two groups would be empty at routing time.
    @Test func aGroupThePatternDoesNotHaveIsAProblem() throws {
        let route = try RouteFixture(
            rules: "^(S[0-9]+)-(students)$ redirect $1-$3@example.org\n^(a)$ redirect $$1-$1@example.org\n")
        let result = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(result.status == 78)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasSuffix("rules line 1: $3 names no group of the pattern, which has 2") == true)
    }

    /// A handler's problem says its rule's line once.
    @Test func aProblemNamesItsLineOnce() throws {
        let route = try RouteFixture(rules: "^list$ list members posters=nobody-file\n")
        try Files.write(route.directory.file("members"), "ann@example.org\n")
        let result = try route.route([], recipient: nil, sender: nil, ["--check"])
        #expect(result.status == 78)
        #expect(result.stderr.contains("rules line 1: "), "\(result.stderr)")
        #expect(!result.stderr.contains("rule table line"), "\(result.stderr)")
        let one = try RouteFixture(rules: "^ok$ redirect one@example.org\n")
        #expect(try one.route([], recipient: nil, sender: nil, ["--check"]).stdout.hasSuffix("1 rule, no problems\n"))
    }

    @Test func explainShowsTheDecisionAndWritesNothing() throws {
        let route = try RouteFixture(
            rules: """
                ^team$ redirect one@example.org two@example.org
                ^archive$ maildir archive/all
                ^closed$ reject gone away
                """)
        func explain(_ address: String) throws -> ProcessResult {
            try route.route([], recipient: nil, sender: nil, ["--explain", address, "--sender", "p@example.net"])
        }
        let team = try explain("team@site.example")
        #expect(team.status == 0, "\(team.stderr)")
        #expect(
            team.stdout == """
                <team@site.example>: line 1: redirect to 2 address(es)
                  outgoing: from <p@example.net> to <one@example.org> (redirect)
                  outgoing: from <p@example.net> to <two@example.org> (redirect)

                """)
        let archive = try explain("archive@site.example")
        #expect(archive.status == 0)
        #expect(archive.stdout.contains("maildir \(route.directory.file("archive/all")): from <p@example.net>"))
        let closed = try explain("closed@site.example")
        #expect(closed.status == 67)
        #expect(closed.stdout.contains("line 3 refuses it: route exits 67 (gone away)"), "\(closed.stdout)")
        let nobody = try explain("nobody@site.example")
        #expect(nobody.status == 67)
        #expect(nobody.stdout.contains("no rule takes it"))
        // Nothing written: no copy, no record, no maildir, no log line.
        #expect(route.outgoing.isEmpty)
        #expect(Files.list(route.spool.root + "/route").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: route.directory.file("archive")))
        #expect(try route.log().isEmpty)
    }
}
