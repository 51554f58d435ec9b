import PostroomCore
import TestSupport
import Testing

@testable import PostroomCore

@Suite struct RuleTableTests {
    let directory = TemporaryDirectory("rule-table")

    func context() -> RouteContext {
        RouteContext(
            spool: Spool(root: directory.file("spool")), configuration: (try? Configuration(text: "")) ?? fallback(),
            recipient: "x@site.example")
    }

    func fallback() -> Configuration {
        preconditionFailure("an empty configuration always parses")
    }

    func table(_ text: String) throws -> RuleTable {
        try Files.write(directory.file("rules"), text)
        return try RuleTable(path: directory.file("rules"), context: context())
    }

    @Test func wordsSplitOnSpaceWithQuotesAndComments() throws {
        #expect(try RuleTable.words(Array("a  b\tc # d".utf8)) == ["a", "b", "c"])
        #expect(
            try RuleTable.words(Array(#"reject "no such \"list\" here" x"#.utf8)) == [
                "reject", #"no such "list" here"#, "x",
            ])
        #expect(try RuleTable.words(Array(#"^a#b$ reject"#.utf8)) == ["^a#b$", "reject"])
        #expect(throws: RuleSyntaxError.self) { try RuleTable.words(Array(#"reject "open"#.utf8)) }
    }

    @Test func firstMatchingRuleWinsWithCapturesSubstituted() throws {
        let rules = try table(
            """
            # comment line

            ^(S[0-9]+)-(students|teachers)$   redirect  $1-$2@lists.example  x$$y@example.org
            ^directors@site\\.example$        redirect  dir@example.org
            ^(.+)$                            reject    "no user $1"
            """)
        #expect(rules.rules.count == 3)
        let list = try #require(try rules.firstMatch("S1234-students@site.example"))
        #expect(list.index == 0)
        #expect(list.arguments.positional == ["S1234-students@lists.example", "x$y@example.org"])
        #expect(
            try rules.firstMatch("s1234-TEACHERS@site.example")?.arguments.positional.first
                == "s1234-TEACHERS@lists.example")
        #expect(try rules.firstMatch("directors@site.example")?.index == 1)
        // The whole-address rule does not take another domain; the catch-all does.
        #expect(try rules.firstMatch("directors@other.example")?.index == 2)
        #expect(try rules.firstMatch("S1234-students@site.example", after: 0)?.index == 2)
    }

    @Test func aLiteralPrefixSkipsRulesWithoutCompilingThem() throws {
        #expect(RulePattern.requiredPrefix(of: "^Directors$") == Array("directors".utf8))
        #expect(RulePattern.requiredPrefix(of: "^abc?d") == Array("ab".utf8))
        #expect(RulePattern.requiredPrefix(of: "^nomatch-(x|y)$") == Array("nomatch-".utf8))
        #expect(RulePattern.requiredPrefix(of: "^a|^b").isEmpty)
        #expect(RulePattern.requiredPrefix(of: "directors").isEmpty)
        // A broken pattern that the address cannot reach is never compiled...
        let rules = try table("^zzz{2,1}  reject\n^a$ redirect a@example.org\n")
        #expect(try rules.firstMatch("a@site.example")?.index == 1)
        // ...one it reaches is a local failure, never a silent skip.
        let reached = try table("^a(  reject\n^a$ redirect a@example.org\n")
        #expect(throws: PostroomError.self) { try reached.firstMatch("a@site.example") }
    }

    @Test func checkReportsEveryProblemWithItsLine() throws {
        try Files.write(
            directory.file("bad"),
            """
            ^a(   redirect a@example.org
            ^b$   nosuch
            ^c$
            ^d$   redirect
            ^e$   forward users frobnicate=1
            ^f$   forward missing-users
            ^g$   redirect "unclosed
            """)
        let problems = RuleTable.check(path: directory.file("bad"), context: context())
        for line in 1...7 {
            #expect(problems.contains { $0.contains("line \(line):") }, "line \(line) in \(problems)")
        }
        #expect(throws: PostroomError.self) { try RuleTable(path: directory.file("bad"), context: context()) }
    }
}

extension RuleTableTests {
    @Test func groupsThatWouldLeaveADirectoryDoNotMatch() throws {
        let rules = try table("^(.+)$  maildir archive/$1\n^.*$ reject\n")
        #expect(try rules.firstMatch("ada@site.example")?.arguments.positional == ["archive/ada"])
        for local in ["..", ".", "../../etc", "a/b"] {
            #expect(try rules.firstMatch("\(local)@site.example")?.index == 1, "\(local)")
        }
    }
}

extension RuleTableTests {
    @Test func aLiteralSuffixSkipsRulesTooAndGroupsAreKeptOnlyWhenUsed() throws {
        #expect(RulePattern.requiredSuffix(of: "^(info|help)-7$") == Array("-7".utf8))
        #expect(RulePattern.requiredSuffix(of: "^a.B$") == Array("b".utf8))
        #expect(RulePattern.requiredSuffix(of: "^ab*$").isEmpty)
        #expect(RulePattern.requiredSuffix(of: "^a\\.b$").isEmpty || RulePattern.requiredSuffix(of: "^a\\.b$") == [98])
        #expect(RulePattern.requiredSuffix(of: "x\\$").isEmpty)
        #expect(RulePattern.requiredSuffix(of: "^a|b$").isEmpty)
        let rules = try table(
            """
            ^(info|help)-7$  redirect office@example.org
            ^(info|help)-8$  redirect x$1@example.org
            ^.*$             reject
            """)
        #expect(try rules.firstMatch("INFO-7@site.example")?.index == 0)
        #expect(try rules.firstMatch("help-8@site.example")?.arguments.positional == ["xhelp@example.org"])
        #expect(try rules.firstMatch("info-78@site.example")?.index == 2)
        #expect(try rules.firstMatch("info-7x@site.example")?.index == 2)
    }
}

extension RuleTableTests {
    @Test func aLiteralInsideThePatternSkipsRulesTheAddressCannotMatch() throws {
        #expect(RulePattern.requiredInfix(of: #"^[a-z]+\.5\.(alumni|archive)$"#) == Array(".5.".utf8))
        #expect(RulePattern.requiredInfix(of: "^x-(a|b)-Staff$") == Array("-staff".utf8))
        #expect(RulePattern.requiredInfix(of: "^ab?c+d{2}e$") == Array("a".utf8))
        #expect(RulePattern.requiredInfix(of: #"^\<abc"#) == Array("abc".utf8))
        #expect(RulePattern.requiredInfix(of: "^[]x|]+yz$") == Array("yz".utf8))
        #expect(RulePattern.requiredInfix(of: "^[[:alpha:]]+-list$") == Array("-list".utf8))
        #expect(RulePattern.requiredInfix(of: "abc|def").isEmpty)
        #expect(RulePattern.requiredInfix(of: "(abc").isEmpty)
        // Whatever the prefilter decides, the result is the regex engine's own.
        let patterns = [
            #"^[a-z]+\.5\.(alumni|archive)$"#, "^x-(a|b)-Staff$", "^ab?c+d{2}e$", #"^\<abc"#, "^[]x|]+yz$",
            "^[[:alpha:]]+-list$", "abc|def", "^(s[0-9]+)-(students|teachers)$", "a.c", #"^a\.b\+c$"#,
            "x*yz?$", "^(ab){2,3}c", #"\-\@x"#, "^[^a]bc[.]d",
        ]
        let subjects = [
            "bob.5.alumni", "bob.6.alumni", "x-a-staff", "X-B-STAFF", "x-c-staff", "acdde", "abccdde", "abdde",
            "abcdef", "abc", "zabc", "]]yz", "x|yz", "yz", "ab-list", "ab1-list", "abc", "def", "s12-students",
            "S12-TEACHERS", "abc", "a.c", "a.b+c", "ab+c", "yz", "xxy", "ababc", "abc", "-@x", "bbc.d", "abc.d", "",
        ]
        for pattern in patterns {
            let plain = try POSIXRegex(pattern)
            for subject in subjects {
                #expect(try RulePattern(pattern).match(subject) == plain.match(subject), "\(pattern) on \(subject)")
            }
        }
    }
}
