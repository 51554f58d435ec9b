import Foundation
import Postroom
import TestSupport
import Testing

/// `postroom requeue` and `hold` killed at every step, then run again: each message is in one
/// place, whole, and ends where the command puts it.
///
/// `make test` runs a sample of the trials; `make crash-test` all of them
/// (`POSTROOM_CRASH_REPLAY=requeue:9 make crash-test` replays one).
@Suite struct QueueCrashTests {
    let directory = TemporaryDirectory("postroom-queue-crash")

    static let names = (1...6).map { "1795336174.M\($0)P1Q1.test" }

    /// Two messages each in deferred/new, failed/cur and held/new, with attempts and errors; the
    /// failed ones failed in the stage `failedIn` when given (else in deliver).
    func template(failedIn: String? = nil) throws -> Spool {
        let spool = Spool(root: directory.file("template"))
        try spool.create()
        for (index, name) in Self.names.enumerated() {
            let bytes = Array(
                """
                From: Team <team@example.org>
                X-Postroom-Envelope-To: <s\(index)@example.org>
                X-Postroom-Attempts: 2
                X-Postroom-Last-Error: 451%20busy
                X-Postroom-Failure: 550%20no
                X-Postroom-Failed-In: \(index / 2 == 1 ? failedIn ?? "deliver" : "deliver")

                Body \(index).

                """.utf8)
            switch index / 2 {
            case 0: try spool.maildir(.deferred).add(bytes, as: MessageName(base: name))
            case 1: try spool.maildir(.failed).add(bytes, as: MessageName(base: name).withInfo(), in: .cur)
            default: try spool.maildir(.held).add(bytes, as: MessageName(base: name))
            }
        }
        return spool
    }

    static func violations(_ spool: Spool, expected place: (String) -> String, rewritten: Bool) throws -> [String] {
        var problems = CrashHarness.commonViolations(in: spool)
        let places = CrashHarness.places(in: spool)
        for name in names where places[name] != [place(name)] {
            problems.append("\(name) is in \(places[name] ?? []), not \(place(name))")
        }
        if places.count != names.count { problems.append("the spool holds \(places.keys.sorted())") }
        guard rewritten else { return problems }
        let outgoing = spool.maildir(.outgoing)
        for folder in [Maildir.Folder.new, .cur] {
            for file in Files.list(outgoing.path(of: folder)) {
                let message = try Message(parsing: try Files.read(outgoing.path(of: folder) + "/" + file))
                if message.control(.attempts) != nil || message.control(.failure) != nil {
                    problems.append("\(file) keeps its attempts or failure")
                }
            }
        }
        return problems
    }

    /// `failedIn` render: the two failed messages are jobs render failed, which requeue moves
    /// back to expanded/new (and never to outgoing/, even when killed half way).
    @Test(arguments: [("requeue", nil), ("requeue", "render"), ("hold", nil)] as [(String, String?)])
    func killedAtEachStepThenRunAgain(command: String, failedIn: String?) throws {
        let template = try template(failedIn: failedIn)
        // hold takes the deferred ones (the others are not its to take).
        let names = command == "hold" ? Array(Self.names.prefix(2)) : Self.names
        func run(_ spool: Spool) -> CrashHarness.Command {
            CrashHarness.Command("postroom", [command, "--spool", spool.root] + names)
        }
        let probe = Spool(root: directory.file("\(command)-\(failedIn ?? "deliver")-probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let (clean, steps) = try CrashHarness.steps(of: run(probe), in: directory.path)
        #expect(clean.status == 0, "without a crash: \(clean.stderr)")
        func check(_ spool: Spool) throws -> [String] {
            guard command == "hold" else {
                let jobs = failedIn == nil ? [] : Self.names[2...3]
                return try Self.violations(
                    spool, expected: { jobs.contains($0) ? "expanded/new" : "outgoing/new" }, rewritten: true)
            }
            // hold moved the deferred two; the others stay where they were.
            var problems = CrashHarness.commonViolations(in: spool)
            let places = CrashHarness.places(in: spool)
            for name in Self.names {
                let expected = names.contains(name) || name >= Self.names[4] ? "held/new" : "failed/cur"
                if places[name] != [expected] { problems.append("\(name) is in \(places[name] ?? [])") }
            }
            return problems
        }
        let cleanProblems = try check(probe)
        #expect(cleanProblems.isEmpty, "a clean run: \(cleanProblems)")
        #expect(steps.count > 5, "the shim saw \(steps.count) steps: is libCrashPoint.so built?")
        let failures = try CrashHarness.killAtEachStep(
            failedIn.map { "\(command)-\($0)" } ?? command, steps: steps.count, shortStride: 3, template: template,
            in: directory.path, command: run,
            check: check)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
