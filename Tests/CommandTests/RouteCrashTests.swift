import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// `route` killed at every step of a fan-out, then run again by "the MTA" with the same message:
/// every copy exists exactly once, never 0, never 2, and nothing is left half-written.
///
/// `make test` runs a sample of the trials; `make crash-test` all of them
/// (`POSTROOM_CRASH_REPLAY=route:17 make crash-test` replays one).
@Suite struct RouteCrashTests {
    let directory = TemporaryDirectory("postroom-route-crash")

    static let members = (1...100).map { "member\($0)@example.org" }

    static let post = Array(
        """
        From: Poster <poster@example.net>
        To: everyone@site.example
        Subject: Tomorrow's announcement
        Message-ID: <announcement@example.net>

        The school opens at nine.

        """.utf8)

    /// A spool and a rule table whose address `everyone` makes 100 copies: an alias, or a list
    /// (whose member file also names the poster, who gets no copy).
    func template(list: Bool = false) throws -> (Spool, String) {
        let spool = Spool(root: directory.file(list ? "list-template" : "template"))
        try spool.create()
        let rules = directory.file(list ? "list-rules" : "rules")
        if list {
            try Files.write(directory.file("everyone"), (Self.members + ["poster@example.net"]).joined(separator: "\n"))
            try Files.write(rules, "^everyone$ list everyone posters=anyone tag=[All]\n")
        } else {
            try Files.write(rules, "^everyone$ redirect \(Self.members.joined(separator: " "))\n")
        }
        return (spool, rules)
    }

    func route(_ spool: Spool, rules: String) -> CrashHarness.Command {
        CrashHarness.Command(
            "route", ["--spool", spool.root, "--rules", rules, "--recipient", "everyone@site.example"],
            environment: ["SENDER": "poster@example.net"], input: Self.post)
    }

    /// Where each member's copies are, and what else is wrong with the spool.
    static func violations(_ spool: Spool) throws -> [String] {
        var problems = CrashHarness.commonViolations(in: spool)
        var copies: [String: Int] = [:]
        let outgoing = spool.maildir(.outgoing)
        for folder in [Maildir.Folder.new, .cur] {
            for name in Files.list(outgoing.path(of: folder)) {
                let message = try Message(parsing: try Files.read(outgoing.path(of: folder) + "/" + name))
                let to = message.control(.envelopeTo) ?? "?"
                copies[to, default: 0] += 1
            }
        }
        for member in members where copies["<\(member)>"] != 1 {
            problems.append("\(member) has \(copies["<\(member)>"] ?? 0) copies")
        }
        // Only the record of the committed fan-out may stay, and it must be empty.
        let records = Files.list(spool.root + "/route")
        if records.count != 1 || records.first?.hasSuffix(".stage") == true {
            problems.append("route/ holds \(records)")
        } else if let record = records.first, !Files.list(spool.root + "/route/" + record).isEmpty {
            problems.append("route/\(record) still holds \(Files.list(spool.root + "/route/" + record).count) files")
        }
        return problems
    }

    @Test(arguments: [false, true])
    func routeKilledAtEachStepThenRetried(list: Bool) throws {
        let scenario = list ? "route-list" : "route"
        let (template, rules) = try template(list: list)
        let probe = Spool(root: directory.file("\(scenario)-probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let (clean, steps) = try CrashHarness.steps(of: route(probe, rules: rules), in: directory.path)
        #expect(clean.status == 0, "route without a crash: \(clean.stderr)")
        let cleanProblems = try Self.violations(probe)
        #expect(cleanProblems.isEmpty, "a clean run: \(cleanProblems)")
        #expect(steps.count > 200, "the shim saw \(steps.count) steps: is libCrashPoint.so built?")
        let failures = try CrashHarness.killAtEachStep(
            scenario, steps: steps.count, shortStride: 17, template: template, in: directory.path,
            command: { route($0, rules: rules) }, check: Self.violations)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Two deliveries of the same message at once (an MTA that retries while the first still
    /// runs): the first frozen at each step, the second run through, then the first killed.
    @Test(.enabled(if: !CrashHarness.isStaticBuild, "freezing at a step needs the shim, which a static build ignores"))
    func twoRoutesOfOneMessageOneFrozenAtEachStep() throws {
        let (template, rules) = try template()
        let probe = Spool(root: directory.file("pair-probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let (_, steps) = try CrashHarness.steps(of: route(probe, rules: rules), in: directory.path)
        var failures: [String] = []
        for trial in CrashHarness.trials("route-pair", count: steps.count, shortStride: 29) {
            let spool = Spool(root: directory.file("pair-\(trial)"))
            try CrashHarness.copy(template.root, to: spool.root)
            let command = route(spool, rules: rules)
            let frozen = try CrashHarness.start(command, frozenAt: trial, in: directory.path)
            // While the first holds the fan-out's lock, the second waits for it: kill the first
            // from another thread after a moment, as the MTA's timeout would.
            let pid = frozen?.pid
            let killer = Thread {
                usleep(200_000)
                if let pid { Glibc.kill(pid, SIGKILL) }
            }
            killer.start()
            let second = try Run.program(
                "route", command.arguments, input: Self.post, environment: ["SENDER": "poster@example.net"])
            while killer.isExecuting { usleep(10_000) }
            frozen?.kill()
            var problems = try Self.violations(spool)
            if second.status != 0 { problems.append("the second run exited \(second.status): \(second.stderr)") }
            if !problems.isEmpty { failures.append("route-pair:\(trial): " + problems.joined(separator: "; ")) }
            try? FileManager.default.removeItem(atPath: spool.root)
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
