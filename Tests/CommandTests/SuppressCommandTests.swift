import Foundation
import Postroom
import TestSupport
import Testing

/// `postroom suppress add|remove|list|check`, run as a separate process.
@Suite struct SuppressCommandTests {
    let directory = TemporaryDirectory("suppress-command")

    func postroom(_ arguments: [String], spool: Spool) throws -> ProcessResult {
        try Run.program("postroom", ["suppress"] + arguments + ["--spool", spool.root])
    }

    @Test func addListCheckAndRemove() throws {
        let spool = try directory.spool()
        try Files.write(spool.suppressPath, "# by hand\r\n  old@example.org   2026-01-01 asked\r\n")
        let added = try postroom(["add", "<Ada@Example.org>", "--reason", "asked by phone"], spool: spool)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.hasPrefix("added Ada@Example.org 20"))
        #expect(added.stdout.hasSuffix(" asked by phone\n"))
        let scoped = try postroom(["add", "kid@example.com", "--list", "s1@site"], spool: spool)
        #expect(scoped.stdout.contains("kid@example.com list=s1@site 20"), "\(scoped.stdout)")
        #expect(scoped.stdout.hasSuffix(" added by postroom suppress\n"))
        let again = try postroom(["add", "ada@example.org", "--list", "s1@site"], spool: spool)
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("ada@example.org is already suppressed: Ada@Example.org 20"))
        #expect(
            try Files.text(spool.logPath).contains(
                "to=<Ada@Example.org>, status=suppressed (by postroom suppress: asked by phone)"))

        let text = try postroom(["list"], spool: spool)
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.first == "old@example.org 2026-01-01 asked")
        let json = try postroom(["list", "--json"], spool: spool)
        let entries = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["address"] as? String } == ["old@example.org", "Ada@Example.org", "kid@example.com"])
        #expect(entries[0]["list"] is NSNull && entries[2]["list"] as? String == "s1@site")
        #expect(entries[0]["note"] as? String == "2026-01-01 asked")
        let forList = try postroom(["list", "--list", "S1@site"], spool: spool)
        #expect(forList.stdout.split(separator: "\n").count == 3)
        let otherList = try postroom(["list", "--list", "s2@site", "--json"], spool: spool)
        #expect(try (JSONSerialization.jsonObject(with: Data(otherList.stdout.utf8)) as? [Any])?.count == 2)

        let yes = try postroom(["check", "kid@example.com", "--list", "s1@site"], spool: spool)
        #expect(yes.status == 0)
        #expect(yes.stdout.hasPrefix("kid@example.com is suppressed for s1@site: kid@example.com list=s1@site 20"))
        let bulk = try postroom(["check", "kid@example.com"], spool: spool)
        #expect(bulk.status == 1)
        #expect(bulk.stdout == "kid@example.com is not suppressed\n")
        #expect(try postroom(["check", "OLD@example.org", "--list", "s9@site"], spool: spool).status == 0)

        let removed = try postroom(["remove", "kid@example.com", "--list", "s1@site"], spool: spool)
        #expect(removed.status == 0)
        #expect(removed.stdout == "removed 1 entry for kid@example.com for s1@site\n")
        #expect(try postroom(["check", "kid@example.com", "--list", "s1@site"], spool: spool).status == 1)
        let none = try postroom(["remove", "nobody@example.org"], spool: spool)
        #expect(none.status == 0)
        #expect(none.stdout == "nobody@example.org was not suppressed: nothing removed\n")
        #expect(try Files.text(spool.suppressPath).hasPrefix("# by hand\n"))
    }

    @Test func removeWithoutListTakesEveryEntryOfTheAddress() throws {
        let spool = try directory.spool()
        try Files.write(spool.suppressPath, "a@example.org\na@example.org list=s1@site\nb@example.org\n")
        let removed = try postroom(["remove", "A@example.org"], spool: spool)
        #expect(removed.stdout == "removed 2 entries for A@example.org\n")
        #expect(try Files.text(spool.suppressPath) == "b@example.org\n")
    }

    @Test func mistakesAreUsageErrors() throws {
        let spool = try directory.spool()
        let bad = try postroom(["add", "not an address"], spool: spool)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("\"not an address\" is not a plain address"), "\(bad.stderr)")
        #expect(try postroom(["add", "a@example.org", "--list", "x y"], spool: spool).status == 64)
        #expect(try postroom(["check"], spool: spool).status == 64)
        #expect(try postroom(["frobnicate"], spool: spool).status == 64)
        #expect(try Run.program("postroom", ["suppress", "list", "--spool", directory.file("none")]).status == 66)
        #expect((try? Files.text(spool.suppressPath)) ?? "" == "")
    }
}
