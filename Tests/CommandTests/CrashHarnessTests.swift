import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// Every stage killed at every step that changes the spool, then run to completion: each input
/// ends in exactly one place, nothing is sent twice but the message in flight, nothing is left
/// in `tmp/`, no partial file is in `new/`, and no run then fails for good.
///
/// `make test` runs a sample of the trials; `make crash-test` runs all of them. A failing trial
/// names itself (`render:17`); `POSTROOM_CRASH_REPLAY=render:17 make crash-test` runs it alone.
@Suite struct CrashHarnessTests {
    let directory = TemporaryDirectory("postroom-crash")

    static let template = """
        From: Splash Team <team@example.org>
        Subject: Welcome {{ user.first_name }}

        Dear {{ user.first_name }},
        see you soon.

        """

    /// A spool with two requests submitted: 3 students with guardians, and 2 more (one of
    /// them without a first name, so its job fails in render).
    func submittedSpool() throws -> Spool {
        let spool = Spool(root: directory.file("template"))
        try spool.create()
        let env = ["POSTROOM_SPOOL": spool.root]
        try Files.write(
            directory.file("a.csv"),
            "email,first_name,guardian_name,guardian_email\na@example.org,Ada,Anne,anne@example.org\n"
                + "b@example.org,Bo,Bert,bert@example.org\nc@example.org,Cy,,\n")
        try Files.write(
            directory.file("b.jsonl"),
            "{\"email\": \"d@example.org\", \"first_name\": \"Di\"}\n{\"email\": \"e@example.org\"}\n")
        for (list, sendTo) in [("a.csv", "self,guardian"), ("b.jsonl", "self")] {
            let submit = try Run.program(
                "postroom", ["submit", "--recipients", directory.file(list), "--send-to", sendTo],
                input: Array(Self.template.utf8), environment: env)
            guard submit.status == 0 else { throw HarnessFailure(description: "submit: \(submit.stderr)") }
        }
        return spool
    }

    /// Runs `trial` for each chosen step of `command` over a fresh copy of `template`; collects
    /// the violations each trial reports.
    func crashEachStep(
        _ scenario: String, of command: (Spool) -> CrashHarness.Command, template: Spool,
        check: (Spool, Int, ProcessResult) throws -> [String]
    ) throws -> [String] {
        let probe = Spool(root: directory.file("\(scenario)-probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let (clean, steps) = try CrashHarness.steps(of: command(probe), in: directory.path)
        #expect(clean.status == 0, "\(scenario) without a crash: \(clean.stderr)")
        #expect(steps.count > 5, "the shim saw no steps: is libCrashPoint.so built?")
        var failures: [String] = []
        for trial in CrashHarness.trials(scenario, count: steps.count) {
            let spool = Spool(root: directory.file("\(scenario)-\(trial)"))
            try CrashHarness.copy(template.root, to: spool.root)
            let (result, lastStep) = try CrashHarness.run(command(spool), killedAt: trial, in: directory.path)
            let problems = try check(spool, trial, result)
            if !problems.isEmpty {
                failures.append("\(scenario):\(trial) (killed at \(lastStep)): " + problems.joined(separator: "; "))
            }
            try? FileManager.default.removeItem(atPath: spool.root)
        }
        return failures
    }

    /// Each message name and where it is, for comparing a crashed-and-finished run with a clean one.
    func places(_ spool: Spool) -> [String: [String]] { CrashHarness.places(in: spool) }

    // MARK: expand

    @Test func expandKilledAtEachStep() throws {
        let template = try submittedSpool()
        let expand = { (spool: Spool) in CrashHarness.Command("expand", environment: ["POSTROOM_SPOOL": spool.root]) }
        let reference = Spool(root: directory.file("expand-reference"))
        try CrashHarness.copy(template.root, to: reference.root)
        _ = try Run.program("expand", environment: ["POSTROOM_SPOOL": reference.root])
        let expected = places(reference).filter { $0.value != ["request/cur"] }
        let failures = try crashEachStep("expand", of: expand, template: template) { spool, _, _ in
            let again = try Run.program("expand", environment: ["POSTROOM_SPOOL": spool.root])
            var problems = CrashHarness.commonViolations(in: spool)
            if again.status != 0 { problems.append("the run after the crash exited \(again.status): \(again.stderr)") }
            let found = places(spool).filter { $0.value != ["request/cur"] }
            if found != expected {
                problems.append("jobs differ from a clean run: \(Self.difference(found, expected))")
            }
            return problems
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Two expands at once, the first frozen at each step and killed while the second runs.
    @Test func twoExpandsOneKilledAtEachStep() throws {
        let template = try submittedSpool()
        let reference = Spool(root: directory.file("expand-pair-reference"))
        try CrashHarness.copy(template.root, to: reference.root)
        _ = try Run.program("expand", environment: ["POSTROOM_SPOOL": reference.root])
        let expected = places(reference).filter { $0.value != ["request/cur"] }
        let expand = { (spool: Spool) in CrashHarness.Command("expand", environment: ["POSTROOM_SPOOL": spool.root]) }
        let probe = Spool(root: directory.file("expand-pair-probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let (_, steps) = try CrashHarness.steps(of: expand(probe), in: directory.path)
        var failures: [String] = []
        for trial in CrashHarness.trials("expand-pair", count: steps.count) {
            let spool = Spool(root: directory.file("expand-pair-\(trial)"))
            try CrashHarness.copy(template.root, to: spool.root)
            let frozen = try CrashHarness.start(expand(spool), frozenAt: trial, in: directory.path)
            let second = try Run.program("expand", environment: ["POSTROOM_SPOOL": spool.root])
            frozen?.kill()
            let last = try Run.program("expand", environment: ["POSTROOM_SPOOL": spool.root])
            var problems = CrashHarness.commonViolations(in: spool)
            if second.status != 0 || last.status != 0 { problems.append("exit \(second.status), \(last.status)") }
            let found = places(spool).filter { $0.value != ["request/cur"] }
            if found != expected {
                problems.append("jobs differ from a clean run: \(Self.difference(found, expected))")
            }
            if !problems.isEmpty { failures.append("expand-pair:\(trial): " + problems.joined(separator: "; ")) }
            try? FileManager.default.removeItem(atPath: spool.root)
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    // MARK: render

    func expandedSpool() throws -> Spool {
        let spool = try submittedSpool()
        let expand = try Run.program("expand", environment: ["POSTROOM_SPOOL": spool.root])
        guard expand.status == 0 else { throw HarnessFailure(description: "expand: \(expand.stderr)") }
        return spool
    }

    static func render(_ spool: Spool) -> CrashHarness.Command {
        CrashHarness.Command("render", ["--queue", "--workers", "1"], environment: ["POSTROOM_SPOOL": spool.root])
    }

    @Test func renderKilledAtEachStep() throws {
        let template = try expandedSpool()
        let reference = Spool(root: directory.file("render-reference"))
        try CrashHarness.copy(template.root, to: reference.root)
        _ = try Run.program("render", ["--queue", "--workers", "1"], environment: ["POSTROOM_SPOOL": reference.root])
        let expected = places(reference)
        let failures = try crashEachStep("render", of: Self.render, template: template) { spool, _, _ in
            let again = try Run.program(
                "render", ["--queue", "--workers", "1"], environment: ["POSTROOM_SPOOL": spool.root])
            var problems = CrashHarness.commonViolations(in: spool)
            if again.status != 0 && again.status != 65 {
                problems.append("the run after the crash exited \(again.status): \(again.stderr)")
            }
            let found = places(spool)
            if found != expected {
                problems.append("messages differ from a clean run: \(Self.difference(found, expected))")
            }
            return problems
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// A render killed, deliver taking what it published, then two renders at once, the first
    /// frozen at each of its early steps (recovery) while the second runs: nothing is rendered twice
    /// (item 3 of issue 8: recovery used to return a job to new/ before deciding it was done).
    @Test func twoRendersAfterACrashRenderNothingTwice() throws {
        let template = try expandedSpool()
        let probe = Spool(root: directory.file("render-pair-probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let (_, steps) = try CrashHarness.steps(of: Self.render(probe), in: directory.path)
        var failures: [String] = []
        let crashes = CrashHarness.trials("render-pair", count: steps.count, shortStride: 6)
        for crash in crashes {
            // The first steps of the frozen render: its log, its sweep and its recovery.
            for freeze in 1...12 {
                let spool = Spool(root: directory.file("pair-\(crash)-\(freeze)"))
                try CrashHarness.copy(template.root, to: spool.root)
                _ = try CrashHarness.run(Self.render(spool), killedAt: crash, in: directory.path)
                let env = ["POSTROOM_SPOOL": spool.root]
                _ = try Run.program(
                    "deliver", ["--once", "--maildir", directory.file("mailbox-\(crash)-\(freeze)")], environment: env)
                let frozen = try CrashHarness.start(Self.render(spool), frozenAt: freeze, in: directory.path)
                _ = try Run.program("render", ["--queue", "--workers", "1"], environment: env)
                frozen?.kill()
                _ = try Run.program("render", ["--queue", "--workers", "1"], environment: env)
                var problems = CrashHarness.commonViolations(in: spool)
                for (name, where_) in places(spool)
                where where_.count != 1 && !where_.allSatisfy({ $0.hasPrefix("request") }) {
                    problems.append("\(name) in \(where_)")
                }
                if !problems.isEmpty {
                    failures.append("render-pair:\(crash) frozen at \(freeze): " + problems.joined(separator: "; "))
                }
                try? FileManager.default.removeItem(atPath: spool.root)
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    // MARK: deliver

    /// Five messages: three accepted, one answered 451 (deferred), one 550 (failed).
    func outgoingSpool() throws -> Spool {
        let spool = Spool(root: directory.file("template"))
        try spool.create()
        for (index, recipient) in ["ok1", "defer", "ok2", "reject", "ok3"].enumerated() {
            let name = MessageName(base: "1795336174.M\(index)P1Q1.crash")
            let message = """
                From: Sender <sender@example.org>
                To: <\(recipient)@example.org>
                Subject: message \(index)
                Message-ID: <\(name.base)@crash.test>
                X-Postroom-Envelope-To: <\(recipient)@example.org>

                Body \(index).

                """
            try spool.maildir(.outgoing).add(Array(message.utf8), as: name)
        }
        return spool
    }

    /// What the servers received since `marks`: Message-ID → deliveries.
    static func deliveries(_ servers: [SMTPTestServer], since marks: [Int]) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (server, mark) in zip(servers, marks) {
            for text in try server.messages().dropFirst(mark) {
                let id =
                    text.split(whereSeparator: \.isNewline).first { $0.lowercased().hasPrefix("message-id:") } ?? "?"
                counts[String(id), default: 0] += 1
            }
        }
        return counts
    }

    /// Runs deliver until nothing is left: once against the accepting server, then again with
    /// every deferred message made due.
    func finishDelivering(_ spool: Spool, to server: SMTPTestServer) throws -> [String] {
        var problems: [String] = []
        let env = ["POSTROOM_SPOOL": spool.root]
        for round in 0..<2 {
            if round == 1 {
                for fileName in Files.list(spool.maildir(.deferred).path(of: .new)) {
                    utime(spool.maildir(.deferred).path(of: .new) + "/" + fileName, nil)
                    var past = utimbuf(actime: 1, modtime: 1)
                    utime(spool.maildir(.deferred).path(of: .new) + "/" + fileName, &past)
                }
            }
            let run = try Run.program("deliver", ["--once", "--smtp", server.url], environment: env)
            if run.status != 0 { problems.append("deliver after the crash exited \(run.status): \(run.stderr)") }
        }
        return problems
    }

    func deliverViolations(_ spool: Spool, deliveries: [String: Int]) -> [String] {
        var problems = CrashHarness.commonViolations(in: spool)
        for (name, where_) in places(spool) where where_ != ["sent/cur"] && where_ != ["failed/cur"] {
            problems.append("\(name) in \(where_)")
        }
        let twice = deliveries.filter { $0.value > 1 }
        if twice.count > 1 || twice.values.contains(where: { $0 > 2 }) {
            problems.append("sent more than once: \(twice)")
        }
        return problems
    }

    @Test func deliverKilledAtEachStep() throws {
        let template = try outgoingSpool()
        let scripted = try SMTPTestServer(.byrecipient)
        let accepting = try SMTPTestServer(.accept)
        let deliver = { (spool: Spool) in
            CrashHarness.Command(
                "deliver", ["--once", "--smtp", scripted.url], environment: ["POSTROOM_SPOOL": spool.root])
        }
        let failures = try crashEachStep("deliver", of: deliver, template: template) { spool, _, _ in
            let marks = [try scripted.messages().count, try accepting.messages().count]
            var problems = try finishDelivering(spool, to: accepting)
            problems += deliverViolations(spool, deliveries: try Self.deliveries([scripted, accepting], since: marks))
            return problems
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Two delivers at once, the first frozen at each step and killed while the second runs.
    @Test func twoDeliversOneKilledAtEachStep() throws {
        let template = try outgoingSpool()
        let scripted = try SMTPTestServer(.byrecipient)
        let accepting = try SMTPTestServer(.accept)
        let probe = Spool(root: directory.file("deliver-pair-probe"))
        try CrashHarness.copy(template.root, to: probe.root)
        let deliver = { (spool: Spool) in
            CrashHarness.Command(
                "deliver", ["--once", "--smtp", scripted.url], environment: ["POSTROOM_SPOOL": spool.root])
        }
        let (_, steps) = try CrashHarness.steps(of: deliver(probe), in: directory.path)
        var failures: [String] = []
        for trial in CrashHarness.trials("deliver-pair", count: steps.count) {
            let spool = Spool(root: directory.file("deliver-pair-\(trial)"))
            try CrashHarness.copy(template.root, to: spool.root)
            let marks = [try scripted.messages().count, try accepting.messages().count]
            let frozen = try CrashHarness.start(deliver(spool), frozenAt: trial, in: directory.path)
            let second = deliver(spool)
            _ = try Run.program(second.program, second.arguments, environment: second.environment)
            frozen?.kill()
            var problems = try finishDelivering(spool, to: accepting)
            problems += deliverViolations(spool, deliveries: try Self.deliveries([scripted, accepting], since: marks))
            if !problems.isEmpty { failures.append("deliver-pair:\(trial): " + problems.joined(separator: "; ")) }
            try? FileManager.default.removeItem(atPath: spool.root)
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    static func difference(_ found: [String: [String]], _ expected: [String: [String]]) -> String {
        var parts: [String] = []
        for name in Set(found.keys).union(expected.keys).sorted() where found[name] != expected[name] {
            parts.append("\(name): \(found[name] ?? []) instead of \(expected[name] ?? [])")
        }
        return parts.joined(separator: ", ")
    }

    struct HarnessFailure: Error, CustomStringConvertible {
        var description: String
    }
}
