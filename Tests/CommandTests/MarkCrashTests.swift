import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// `mark` killed at every step, then run again by "the MTA" (or the web endpoint) with the same
/// input: the end state is the clean run's. A bounce that crosses the threshold changes three
/// files (a flag on the sent file, `suppress`, the bounce history); an unsubscribe one.
@Suite struct MarkCrashTests {
    let directory = TemporaryDirectory("postroom-mark-crash")

    static let name = MarkBounceCommandTests.name
    static let member = "gone@member.test"

    /// Postfix's DSN for the member, with a status that counts without suppressing at once.
    static func bounce() throws -> [UInt8] {
        let text = try Files.text(Files.repositoryPath("Tests/Fixtures/bounces/postfix-dsn.eml"))
        return Array(text.replacingOccurrences(of: "5.1.1", with: "5.1.2").utf8)
    }

    /// A spool whose sent/cur holds the bounced message and whose history already counts the
    /// member on two earlier days: this bounce is the third day, which suppresses.
    func template() throws -> (Spool, String) {
        let spool = Spool(root: directory.file("template"))
        try spool.create()
        let sent = spool.maildir(.sent).path(of: MessageName(base: Self.name, flags: "L"), in: .cur)
        try Files.write(sent, "X-Postroom-Envelope-To: <\(Self.member)>\nTo: \(Self.member)\n\nHi\n")
        let day = 86_400
        let now = Timestamp.now().seconds
        let lines = [2, 1].map { ago in
            "\(BounceHistory.date(Timestamp(seconds: now - ago * day, microseconds: 0))) \(Self.member) 5.1.2 "
                + "name=\(Self.name) key=earlier\(ago)"
        }
        try Files.write(spool.root + "/bounces", lines.joined(separator: "\n") + "\n")
        let config = directory.file("postroom.conf")
        try Files.write(config, "spool = \(spool.root)\n")
        return (spool, config)
    }

    func bounceCommand(_ spool: Spool, config: String) throws -> CrashHarness.Command {
        CrashHarness.Command(
            "mark", ["--bounce", "--spool", spool.root, "--config", config],
            environment: ["RECIPIENT": "bounces+\(Self.name)@school.example", "SENDER": ""], input: try Self.bounce())
    }

    /// What must hold after a clean run, or a killed one and its retry.
    static func violations(_ spool: Spool) throws -> [String] {
        var problems = CrashHarness.commonViolations(in: spool)
        let sent = Files.list(spool.maildir(.sent).path(of: .cur))
        if sent != ["\(name):2,BL"] { problems.append("sent/cur holds \(sent)") }
        let suppress = try SuppressionList(path: spool.suppressPath)
        if suppress.entries.filter({ $0.address == member }).count != 1 {
            problems.append("suppress holds \(suppress.entries.map(\.line))")
        }
        let history = (try? Files.text(spool.root + "/bounces")) ?? ""
        if history.contains(member) { problems.append("the history still counts the member: \(history)") }
        return problems
    }

    @Test func bounceKilledAtEachStepThenRetried() throws {
        let (template, _) = try template()
        let probe = Spool(root: directory.file("probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let probeConfig = directory.file("probe.conf")
        try Files.write(probeConfig, "spool = \(probe.root)\n")
        let (clean, steps) = try CrashHarness.steps(of: bounceCommand(probe, config: probeConfig), in: directory.path)
        #expect(clean.status == 0, "mark without a crash: \(clean.stderr)")
        let cleanProblems = try Self.violations(probe)
        #expect(cleanProblems.isEmpty, "a clean run: \(cleanProblems)")
        #expect(steps.count >= 8, "the harness saw \(steps): a flag, two files replaced, log lines")
        let failures = try CrashHarness.killAtEachStep(
            "mark-bounce", steps: steps.count, shortStride: 1, template: template, in: directory.path,
            command: { spool in
                let config = directory.file("\(spool.root.split(separator: "/").last ?? "spool").conf")
                try Files.write(config, "spool = \(spool.root)\n")
                return try bounceCommand(spool, config: config)
            }, check: Self.violations)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    @Test func unsubscribeKilledAtEachStepThenRetried() throws {
        let site = try UnsubscribeCommandSite()
        // Another address is already in the file: a kill must never lose it.
        try SuppressFile(spool: site.spool).add(SuppressionList.Entry(address: "earlier@example.org", note: "by hand"))
        let command = CrashHarness.Command(
            "mark", ["--unsubscribe", site.token("ada@example.org", list: "s1@site.example"), "--config", site.config])
        let template = directory.file("unsubscribe-template")
        try CrashHarness.copy(site.spool.root, to: template)
        let (clean, steps) = try CrashHarness.steps(of: command, in: directory.path)
        #expect(clean.status == 0, "mark without a crash: \(clean.stderr)")
        #expect(steps.count >= 4, "the harness saw \(steps)")
        var failures: [String] = []
        for trial in CrashHarness.trials("mark-unsubscribe", count: steps.count, shortStride: 1) {
            try? FileManager.default.removeItem(atPath: site.spool.root)
            try CrashHarness.copy(template, to: site.spool.root)
            let (result, lastStep) = try CrashHarness.run(command, killedAt: trial, in: directory.path)
            let retry = try Run.program("mark", command.arguments)
            var problems: [String] = []
            let entries = try SuppressionList(path: site.spool.suppressPath).entries.map(\.address)
            if entries != ["earlier@example.org", "ada@example.org"] { problems.append("suppress holds \(entries)") }
            if retry.status != 0 { problems.append("the retry exited \(retry.status): \(retry.stderr)") }
            if result.status != 137 && result.status != 0 { problems.append("the killed run exited \(result.status)") }
            if !problems.isEmpty {
                failures.append(
                    "mark-unsubscribe:\(trial) (killed at \(lastStep)): " + problems.joined(separator: "; "))
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
