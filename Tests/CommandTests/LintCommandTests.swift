import Foundation
import Postroom
import TestSupport
import Testing

/// `postroom lint` and `render --lint`, run as processes over a temporary spool.
@Suite struct LintCommandTests {
    let directory = TemporaryDirectory("postroom-lint")

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let badMessage = "From: a@example.org\nSubject: x\n\nbody\n"

    /// A configuration for `spool`; with `unsubscribe`, render adds one-click unsubscribe.
    func configuration(_ spool: Spool, unsubscribe: Bool = true) throws -> String {
        var text = "spool = \(spool.root)\nmessage_id_domain = example.org\n"
        if unsubscribe {
            let key = directory.file("unsubscribe.key")
            if !FileManager.default.fileExists(atPath: key) {
                try Files.write(key, Array(repeating: UInt8(ascii: "k"), count: 32))
                chmod(key, 0o600)
            }
            text += "unsubscribe_url = https://example.org/unsubscribe/{token}\nunsubscribe_key_file = \(key)\n"
        }
        let path = directory.file(unsubscribe ? "postroom.conf" : "plain.conf")
        try Files.write(path, text)
        return path
    }

    /// examples/welcome.eml submitted to examples/students.csv and expanded, as `make demo` does.
    func expandedExample(_ config: String) throws {
        let examples = Self.root.appendingPathComponent("examples").path
        let submit = try Run.program(
            "postroom",
            [
                "submit", "--config", config, "--recipients", examples + "/students.csv", "--send-to", "self,guardian",
                "--var", "program.niceName=Splash 2026",
            ], input: try Files.read(examples + "/welcome.eml"))
        #expect(submit.status == 0, "\(submit.stderr)")
        let expand = try Run.program("expand", ["--config", config])
        #expect(expand.status == 0, "\(expand.stderr)")
    }

    @Test func theRenderedExampleIsCleanApartFromTheMissingDKIMKey() throws {
        let spool = try directory.spool()
        let config = try configuration(spool)
        try expandedExample(config)
        let render = try Run.program("render", ["--config", config, "--lint"])
        #expect(render.status == 0, "\(render.stderr)")
        let names = Files.list(spool.maildir(.outgoing).path(of: .new))
        #expect(!names.isEmpty)
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)).isEmpty)
        // Warnings go to the log, one line per message.
        let log = try Files.text(spool.logPath)
        #expect(
            log.components(separatedBy: "status=lint (lint warning: no DKIM key is configured").count == names.count + 1
        )

        let name = try #require(names.first)
        let lint = try Run.program("postroom", ["lint", "--config", config, name])
        #expect(lint.status == 0, "\(lint.stderr)")
        let path = spool.maildir(.outgoing).path(of: .new) + "/" + name
        #expect(lint.stdout.hasPrefix("\(path): warning: no DKIM key is configured, so deliver sends this unsigned ("))
        #expect(lint.stdout.split(separator: "\n").count == 1)
        // With a key for the From domain, nothing is left (lint never opens the key file).
        let signed = try Run.program(
            "postroom", ["lint", "--config", config, "--dkim", "example.org:s1:/nonexistent", path])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stdout == "")
    }

    @Test func renderLintFailsJobsWithErrorsIntoFailed() throws {
        let spool = try directory.spool()
        let config = try configuration(spool, unsubscribe: false)
        try expandedExample(config)
        let render = try Run.program("render", ["--config", config, "--lint"])
        #expect(render.status == 0, "\(render.stderr)")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
        let failed = Files.list(spool.maildir(.failed).path(of: .cur))
        #expect(!failed.isEmpty)
        #expect(render.stdout.contains("rendered 0, \(failed.count) failed"))
        let log = try Files.text(spool.logPath)
        #expect(log.contains("status=failed (malformed message at the message rendered from"))
        #expect(log.contains("lint: no List-Unsubscribe field"))
    }

    @Test func aJobRenderFailedGoesBackToRenderWhenRequeued() throws {
        let spool = try directory.spool()
        try expandedExample(try configuration(spool, unsubscribe: false))
        let failing = try Run.program("render", ["--config", try configuration(spool, unsubscribe: false), "--lint"])
        #expect(failing.status == 0, "\(failing.stderr)")
        let failed = Files.list(spool.maildir(.failed).path(of: .cur))
        let names = failed.map { String($0.prefix { $0 != ":" }) }
        #expect(!names.isEmpty)

        // The fix is in the configuration: the jobs are rendered again, not sent as jobs.
        let config = try configuration(spool)
        let requeue = try Run.program("postroom", ["requeue", "--config", config] + names)
        #expect(requeue.status == 0, "\(requeue.stderr)")
        #expect(requeue.stdout.contains("(by operator, from failed/cur to expanded/new for render to do again)"))
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).sorted() == names.sorted())
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
        // Requeued already: the same command again changes nothing and succeeds.
        let again = try Run.program("postroom", ["requeue", "--config", config, names[0]])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("already in expanded/new; nothing to do"))

        let render = try Run.program("render", ["--config", config, "--lint"])
        #expect(render.status == 0, "\(render.stderr)")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).sorted() == names.sorted())
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)).isEmpty)
        // The job went back as it was; the failure it carried stays behind in render.
        let rendered = try Files.text(spool.maildir(.outgoing).path(of: .new) + "/" + names[0])
        #expect(!rendered.contains("X-Postroom-Failure") && !rendered.contains("X-Postroom-Failed-In"))
        #expect(rendered.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
    }

    @Test func renderLintAsAFilterRefusesAMessageWithErrors() throws {
        let spool = try directory.spool()
        let config = try configuration(spool, unsubscribe: false)
        let input = Array("To: ann@example.net\nFrom: Team <team@example.org>\nSubject: Hi\n\nHello.\n".utf8)
        let refused = try Run.program("render", ["--config", config, "--lint", "-"], input: input)
        #expect(refused.status == 65)
        #expect(refused.stdout == "")
        #expect(refused.stderr.contains("lint: no List-Unsubscribe field"))
        let plain = try Run.program("render", ["--config", config, "-"], input: input)
        #expect(plain.status == 0, "\(plain.stderr)")
        let warned = try Run.program("render", ["--config", try configuration(spool), "--lint", "-"], input: input)
        #expect(warned.status == 0, "\(warned.stderr)")
        #expect(warned.stderr.contains("lint warning: no DKIM key is configured"))
        #expect(warned.stdout.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
    }

    @Test func exitCodesAndFindingLines() throws {
        let spool = try directory.spool()
        let config = try configuration(spool)
        let bad = directory.file("bad.eml")
        try Files.write(bad, Self.badMessage)
        let result = try Run.program("postroom", ["lint", "--config", config, bad])
        #expect(result.status == 65)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("\(bad): error: no Message-ID field (") })
        #expect(lines.contains { $0.hasPrefix("\(bad): error: no Date field (") })
        #expect(lines.contains { $0.hasPrefix("\(bad): error: no List-Unsubscribe field (") })
        #expect(lines.allSatisfy { $0.hasPrefix("\(bad): error: ") || $0.hasPrefix("\(bad): warning: ") })

        let json = try Run.program("postroom", ["lint", "--config", config, "--json", bad])
        #expect(json.status == 65)
        for line in json.stdout.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["file"] == bad)
            #expect(["error", "warning"].contains(object?["severity"] ?? ""))
        }

        let missing = try Run.program("postroom", ["lint", "--config", config, directory.file("nope.eml")])
        #expect(missing.status == 66)
        let unknown = try Run.program("postroom", ["lint", "--config", config, "1795336174.M1P1Q1.nowhere"])
        #expect(unknown.status == 66)
        #expect(unknown.stderr.contains("no message of that name in the spool"))
    }

    @Test func standardInputIsReadWithNoArgumentOrADash() throws {
        // No spool is needed for a message on standard input.
        let config = directory.file("none.conf")
        try Files.write(config, "spool = \(directory.file("no-spool"))\n")
        for arguments in [["lint", "--config", config], ["lint", "--config", config, "-"]] {
            let result = try Run.program("postroom", arguments, input: Array(Self.badMessage.utf8))
            #expect(result.status == 65, "\(arguments): \(result.stderr)")
            #expect(result.stdout.hasPrefix("(standard input): error: "), "\(arguments)")
        }
    }

    @Test func aNameIsLookedUpInTheSpoolsQueues() throws {
        let spool = try directory.spool()
        let config = try configuration(spool)
        let name = "1795336174.M7P1Q1.test"
        try spool.maildir(.deferred).add(Array(Self.badMessage.utf8), as: MessageName(base: name))
        let result = try Run.program("postroom", ["lint", "--config", config, name])
        #expect(result.status == 65)
        #expect(result.stdout.hasPrefix(spool.maildir(.deferred).path(of: .new) + "/\(name): error: "))
    }
}
