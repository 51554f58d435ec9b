import Foundation
import Postroom
import TestSupport
import Testing

/// The `postroom` front command, run as a separate process.
@Suite struct PostroomCommandTests {
    let directory = TemporaryDirectory()

    @Test func initCreatesTheSpoolAndIsIdempotent() throws {
        let root = directory.file("spool")
        let first = try Run.program("postroom", ["init", root])
        #expect(first.status == 0)
        #expect(first.stdout.contains("created \(root)/outgoing"))
        let second = try Run.program("postroom", ["init", root])
        #expect(second.status == 0)
        #expect(second.stdout == "spool \(root) is complete; nothing to do\n")
        #expect(Files.list(root).contains("suppress"))
    }

    @Test func initTakesTheSpoolFromTheEnvironment() throws {
        let root = directory.file("from-env")
        let result = try Run.program("postroom", ["init", "--quiet"], environment: ["POSTROOM_SPOOL": root])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        try Spool(root: root).validate()
    }

    @Test func initIntoAnUnwritablePlaceExits73() throws {
        try Files.write(directory.file("plain-file"), "x")
        let result = try Run.program("postroom", ["init", directory.file("plain-file/spool")])
        #expect(result.status == 73)
        #expect(result.stderr == "postroom init: cannot create \(directory.file("plain-file")): Not a directory\n")
    }

    @Test func statusReportsQueuesAsTextAndJSON() throws {
        let spool = try directory.spool()
        try spool.maildir(.outgoing).add(Array("Subject: x\n\nb\n".utf8), as: MessageNameGenerator.shared.next())
        let text = try Run.program("postroom", ["status", "--spool", spool.root])
        #expect(text.status == 0)
        #expect(text.stdout.contains("outgoing        1        0        0       -"))
        let json = try Run.program("postroom", ["status", "--json"], environment: ["POSTROOM_SPOOL": spool.root])
        #expect(json.status == 0)
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let queues = try #require(object["queues"] as? [String: [String: Any]])
        #expect(queues["outgoing"]?["new"] as? Int == 1)
        #expect(Set(queues.keys) == ["request", "expanded", "outgoing", "deferred", "sent", "failed", "held"])
    }

    @Test func statusWithoutASpoolExits66AndSaysHowToCreateOne() throws {
        let result = try Run.program("postroom", ["status", "--spool", directory.file("missing")])
        #expect(result.status == 66)
        #expect(result.stderr.contains("postroom init \(directory.file("missing"))"))
    }

    @Test func usageErrorsExit64() throws {
        #expect(try Run.program("postroom", ["status", "--no-such-flag"]).status == 64)
        #expect(try Run.program("postroom", ["no-such-command"]).status == 64)
    }

    @Test func badConfigurationExits78WithTheLine() throws {
        try Files.write(directory.file("postroom.conf"), "spool = /x\nspol = typo\n")
        let result = try Run.program("postroom", ["status", "--config", directory.file("postroom.conf")])
        #expect(result.status == 78)
        #expect(result.stderr.contains("postroom.conf line 2: unknown key \"spol\""))
    }

    @Test func inspectDecodesHeadersAndControlFields() throws {
        let input = "Subject: =?UTF-8?B?5a2m55Sf?=\nX-Postroom-Failure: 550%205.1.1%20unknown\n\nbody\n"
        let result = try Run.program("postroom", ["inspect"], input: Array(input.utf8))
        #expect(result.status == 0)
        #expect(
            result.stdout
                == "Subject: 学生\nX-Postroom-Failure: 550 5.1.1 unknown\n(2 header fields, body 5 bytes, LF line endings)\n"
        )
    }

    @Test(arguments: [
        ("Subject: a\nX: b\rc\n\nbody\n", "line 2: contains a CR not followed by LF"),
        ("Subject: a\n\nnul\0\n", "line 3: contains a NUL byte"),
        ("Subject: a\nno separator here\n", "line 2: \"no separator here\" is not a header field"),
    ])
    func malformedMessagesExit65WithAClearReason(_ input: String, _ reason: String) throws {
        try Files.write(directory.file("bad.eml"), input)
        let result = try Run.program("postroom", ["inspect", directory.file("bad.eml")])
        #expect(result.status == 65)
        #expect(result.stderr.contains("postroom inspect: malformed message at \(directory.file("bad.eml")) \(reason)"))
        #expect(try Files.text(directory.file("bad.eml")) == input)
    }

    @Test func inspectShowsTheReasonOfAPoisonMessageInFailed() throws {
        let spool = try directory.spool()
        let poison = Array("not a message at all\n\nbody\n".utf8)
        try spool.maildir(.outgoing).add(poison, as: MessageName(base: "1796000000.M1P1Q1.test"))
        let claim = try #require(try spool.maildir(.outgoing).claim("1796000000.M1P1Q1.test"))
        let log = try SpoolLog(path: nil, program: "deliver", echo: false)
        try claim.fail(
            into: spool, reason: "malformed message: line 1 is not a header field", stage: "deliver", log: log)
        let path = spool.maildir(.failed).path(of: .cur) + "/1796000000.M1P1Q1.test:2,"
        let result = try Run.program("postroom", ["inspect", path])
        #expect(result.status == 65)
        #expect(
            result.stdout.hasPrefix(
                "X-Postroom-Failure: malformed message: line 1 is not a header field\nX-Postroom-Failed-In: deliver\n"
                    + "(2 control fields; the message after them does not parse: malformed message at \(path) line "))
        // The line number counts the file as stored, failure fields (folded or not) included.
        #expect(result.stdout.contains(": \"not a message at all\" is not a header field"))
        #expect(result.stderr.contains("postroom inspect: malformed message at \(path) line "))
    }

    @Test func aLogThatCannotBeWrittenIsReportedWithoutLosingOrRepeatingMail() throws {
        let spool = try directory.spool()
        try Files.remove(spool.logPath)
        try FileManager.default.createSymbolicLink(atPath: spool.logPath, withDestinationPath: "/dev/full")
        // submit: the request is durable, so the exit stays 0 (a failure would make the app submit again).
        try Files.write(directory.file("list.csv"), "email\na@example.org\n")
        let submit = try Run.program(
            "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("list.csv")],
            input: Array("From: t@example.org\nSubject: s\n\nhi\n".utf8))
        #expect(submit.status == 0)
        #expect(
            submit.stderr.contains("submit: cannot append to \(spool.logPath) (No space left on device); the line: "))
        #expect(submit.stderr.contains("status=submitted"))
        #expect(Files.list(spool.maildir(.request).path(of: .new)).count == 1)
        // A stage over the spool: the work is done once, each lost line is on stderr, and the exit says so.
        let expand = try Run.program("expand", ["--spool", spool.root])
        #expect(expand.status == 75)
        #expect(expand.stderr.contains("the line: ") && expand.stderr.contains("status=done (expanded 1 of 1)"))
        #expect(expand.stderr.contains("expand: cannot append to \(spool.logPath): No space left on device"))
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).count == 1)
        #expect(try Run.program("expand", ["--spool", spool.root]).status == 0)
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).count == 1)
    }

    @Test func inspectOfAMissingFileExits66() throws {
        let result = try Run.program("postroom", ["inspect", directory.file("nope.eml")])
        #expect(result.status == 66)
    }
}
