import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// `postroom release` of posts `route` held for a list: one copy per member, exactly once,
/// even when the release is killed at any step and run again.
///
/// `make test` runs a sample of the crash trials; `make crash-test` all of them
/// (`POSTROOM_CRASH_REPLAY=release:17 make crash-test` replays one).
@Suite struct ReleaseCommandTests {
    let directory = TemporaryDirectory("postroom-release")

    static let members = (1...40).map { "member\($0)@example.org" }

    static let post = Array(
        """
        From: Outsider <outsider@example.net>
        To: everyone@site.example
        Subject: Lost property
        Message-ID: <lost@example.net>

        A blue coat was left in room 4.

        """.utf8)

    /// A spool whose `everyone` list takes posts from members only, and in `held/new` the post of
    /// an outsider that route held; returns the spool, the rule table and the held file's name.
    func heldPost(_ label: String) throws -> (Spool, String, String) {
        let spool = Spool(root: directory.file(label))
        try spool.create()
        try Files.write(directory.file("everyone"), Self.members.joined(separator: "\n") + "\n")
        let rules = directory.file("rules")
        try Files.write(rules, "^everyone$ list everyone posters=members notify=no tag=[All]\n")
        let route = try Run.program(
            "route", ["--spool", spool.root, "--rules", rules, "--recipient", "everyone@site.example"],
            input: Self.post, environment: ["SENDER": "outsider@example.net"])
        guard route.status == 0, let held = Files.list(spool.maildir(.held).path(of: .new)).first else {
            throw POSIXError(
                .EIO, userInfo: [NSLocalizedDescriptionKey: "route did not hold the post: \(route.stderr)"])
        }
        return (spool, rules, MessageName(fileName: held).base)
    }

    func release(_ spool: Spool, _ rules: String, _ name: String) -> CrashHarness.Command {
        CrashHarness.Command("postroom", ["release", "--spool", spool.root, "--rules", rules, name])
    }

    /// What is wrong with the spool after a release: a member without exactly one copy, a held
    /// file left, a record of the fan-out not emptied, a half-written file.
    static func violations(_ spool: Spool) throws -> [String] {
        var problems = CrashHarness.commonViolations(in: spool)
        var copies: [String: Int] = [:]
        let outgoing = spool.maildir(.outgoing)
        for folder in [Maildir.Folder.new, .cur] {
            for name in Files.list(outgoing.path(of: folder)) {
                let message = try Message(parsing: try Files.read(outgoing.path(of: folder) + "/" + name))
                copies[message.control(.envelopeTo) ?? "?", default: 0] += 1
                if message.value(of: "Subject") != "[All] Lost property" { problems.append("\(name) is no list copy") }
            }
        }
        for member in members where copies["<\(member)>"] != 1 {
            problems.append("\(member) has \(copies["<\(member)>"] ?? 0) copies")
        }
        if copies.count != members.count { problems.append("copies to \(copies.keys.sorted())") }
        for folder in Maildir.Folder.allCases where !Files.list(spool.maildir(.held).path(of: folder)).isEmpty {
            problems.append("held/\(folder) holds \(Files.list(spool.maildir(.held).path(of: folder)))")
        }
        // route's record of the held post, and the release's: both committed and empty.
        let records = Files.list(spool.root + "/route")
        if records.count != 2 || records.contains(where: { $0.hasSuffix(".stage") }) {
            problems.append("route/ holds \(records)")
        }
        for record in records where !Files.list(spool.root + "/route/" + record).isEmpty {
            problems.append("route/\(record) still holds \(Files.list(spool.root + "/route/" + record))")
        }
        return problems
    }

    @Test func aPostHeldForAListGoesToEachMemberOnce() throws {
        let (spool, rules, name) = try heldPost("happy")
        let listed = try Run.program("postroom", ["list", "held", "--spool", spool.root])
        #expect(
            listed.stdout.contains("(for everyone@site.example: outsider@example.net may not post"), "\(listed.stdout)")
        let result = try Run.program("postroom", release(spool, rules, name).arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(name): released (by operator, to the list everyone@site.example: 40 copies"))
        let problems = try Self.violations(spool)
        #expect(problems.isEmpty, "\(problems)")
        // The copies descend from the held file's name.
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).allSatisfy { $0.hasPrefix(name + ".R") })
        let log = try Files.text(spool.logPath)
        #expect(log.contains("\(name): status=released (by operator, to the list everyone@site.example"))
        #expect(log.components(separatedBy: "status=queued").count - 1 == 40)
        // Again: nothing more is made.
        let again = try Run.program("postroom", release(spool, rules, name).arguments)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("\(name): already released"))
        #expect(try Self.violations(spool).isEmpty)
    }

    @Test func requeueOfAPostHeldForAListIsRefused() throws {
        let (spool, _, name) = try heldPost("requeue")
        let result = try Run.program("postroom", ["requeue", "--spool", spool.root, name])
        #expect(result.status == 65)
        #expect(result.stderr.contains("'postroom release' sends it to the list's members"), "\(result.stderr)")
        #expect(Files.list(spool.maildir(.held).path(of: .new)).count == 1)
        #expect(Files.list(spool.maildir(.held).path(of: .cur)).isEmpty)
    }

    @Test func aReleaseWithoutItsListLeavesThePostHeld() throws {
        let (spool, _, name) = try heldPost("nolist")
        let other = directory.file("other-rules")
        try Files.write(other, "^someone$ redirect a@example.org\n")
        let result = try Run.program("postroom", ["release", "--spool", spool.root, "--rules", other, name])
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("no list rule takes everyone@site.example any more"))
        #expect(Files.list(spool.maildir(.held).path(of: .new)).count == 1)
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
    }

    @Test func aReleaseKilledAtEachStepThenRunAgainMakesEachCopyOnce() throws {
        let (template, rules, name) = try heldPost("template")
        let probe = Spool(root: directory.file("probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let (clean, steps) = try CrashHarness.steps(of: release(probe, rules, name), in: directory.path)
        #expect(clean.status == 0, "a release without a crash: \(clean.stderr)")
        let cleanProblems = try Self.violations(probe)
        #expect(cleanProblems.isEmpty, "a clean run: \(cleanProblems)")
        #expect(steps.count > 80, "the shim saw \(steps.count) steps: is libCrashPoint.so built?")
        let failures = try CrashHarness.killAtEachStep(
            "release", steps: steps.count, shortStride: 7, template: template, in: directory.path,
            command: { release($0, rules, name) }, check: Self.violations)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
