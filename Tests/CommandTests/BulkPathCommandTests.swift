import Foundation
import Postroom
import TestSupport
import Testing

/// submit, expand and render as separate processes over a temporary spool.
@Suite struct BulkPathCommandTests {
    let directory = TemporaryDirectory()
    static let template = """
        From: Splash Team <team@example.org>
        Subject: Welcome {{ user.first_name }} to {{ program.niceName }}

        Dear {{ user.first_name }},
        see you at {{ program.niceName }}.

        """

    func spoolWithList(_ csv: String) throws -> Spool {
        let spool = try directory.spool()
        try Files.write(directory.file("students.csv"), csv)
        return spool
    }

    @Test func submitExpandRenderEndToEnd() throws {
        let spool = try spoolWithList(
            "email,first_name,guardian_name,guardian_email\na@example.org,Ada,Anne,anne@example.org\nb@example.org,Bo,,\n"
        )
        let env = ["POSTROOM_SPOOL": spool.root]
        let submit = try Run.program(
            "postroom",
            [
                "submit", "--recipients", directory.file("students.csv"), "--send-to", "self,guardian",
                "--var", "program.niceName=Splash 2026",
            ], input: Array(Self.template.utf8), environment: env)
        #expect(submit.status == 0, "\(submit.stderr)")
        let name = submit.stdout.trimmingCharacters(in: .newlines)
        #expect(Files.list(spool.maildir(.request).path(of: .new)) == [name])
        // The list is copied into the request: later edits change nothing.
        try Files.write(directory.file("students.csv"), "email\nsomeone-else@example.org\n")

        let expand = try Run.program("expand", [], environment: env)
        #expect(expand.status == 0)
        #expect(expand.stdout == "\(name): expanded 3 of 3: 1 contact without an address\n")
        // A missing contact is routine: logged, counted in the summary, kept off stderr.
        #expect(!expand.stderr.contains("no guardian address"))
        #expect(try Files.text(spool.logPath).contains("copy=guardian, line=3, status=skipped (no guardian address)"))

        let render = try Run.program("render", ["--queue"], environment: env)
        #expect(render.status == 0, "\(render.stderr)")
        #expect(render.stdout == "rendered 3\n")
        let files = Files.list(spool.maildir(.outgoing).path(of: .new))
        #expect(files == ["\(name).R1", "\(name).R2", "\(name).R3"])
        let guardianCopy = try Message(parsing: try Files.read(spool.maildir(.outgoing).path(of: .new) + "/\(name).R2"))
        #expect(guardianCopy.value(of: "To") == #""Anne" <anne@example.org>"#)
        #expect(guardianCopy.value(of: "Subject") == "Welcome Ada to Splash 2026")
        let log = try Files.text(spool.logPath)
        #expect(log.contains("\(name).R2: to=<anne@example.org>, copy=guardian, line=2, status=expanded"))
        #expect(log.contains("\(name).R2: to=<anne@example.org>, status=rendered"))
    }

    @Test func unknownSendToModeExits64NamingTheValidOnes() throws {
        let spool = try spoolWithList("email\na@example.org\n")
        let result = try Run.program(
            "postroom",
            [
                "submit", "--spool", spool.root, "--recipients", directory.file("students.csv"), "--send-to",
                "self,parents",
            ],
            input: Array(Self.template.utf8))
        #expect(result.status == 64)
        #expect(
            result.stderr.contains("unknown send-to mode \"parents\"; valid modes are self, guardian and emergency"))
        #expect(Files.list(spool.maildir(.request).path(of: .new)).isEmpty)
    }

    @Test func aBrokenTemplateOrListIsRefusedAtSubmission() throws {
        let spool = try spoolWithList("name\nAda\n")
        let noEmail = try Run.program(
            "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("students.csv")],
            input: Array(Self.template.utf8))
        #expect(noEmail.status == 65)
        #expect(noEmail.stderr.contains("has no 'email' column"))
        try Files.write(directory.file("students.csv"), "email\na@example.org\n")
        let badTemplate = try Run.program(
            "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("students.csv")],
            input: Array("Subject: x\nno blank line\n".utf8))
        #expect(badTemplate.status == 65)
        let missingList = try Run.program(
            "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("nope.csv")],
            input: Array(Self.template.utf8))
        #expect(missingList.status == 66)
        #expect(Files.list(spool.maildir(.request).path(of: .new)).isEmpty)
    }

    @Test func renderUnderCronRendersTheSpoolThoughStandardInputIsAPipe() throws {
        let spool = try spoolWithList("email,first_name\na@example.org,Ada\n")
        let env = ["POSTROOM_SPOOL": spool.root]
        let expand = try Run.program(
            "expand", ["--recipients", directory.file("students.csv"), "--var", "program.niceName=S"],
            input: Array(Self.template.utf8), environment: env)
        #expect(expand.status == 0, "\(expand.stderr)")
        // Run.program gives the child a pipe on standard input, as cron does.
        let render = try Run.program("render", [], environment: env)
        #expect(render.status == 0, "\(render.stderr)")
        #expect(render.stdout == "rendered 1\n")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).count == 1)
        #expect(try Run.program("render", ["--queue", "-"], environment: env).status == 64)
        #expect(try Run.program("render", ["job.eml"], environment: env).status == 64)
    }

    @Test func columnNamesAreMatchedInAnyCase() throws {
        let spool = try spoolWithList("Email,First_Name,Guardian_Email\na@example.org,Ada,GA@example.org\n")
        let env = ["POSTROOM_SPOOL": spool.root]
        let expand = try Run.program(
            "expand",
            [
                "--recipients", directory.file("students.csv"), "--send-to", "self,guardian", "--var",
                "program.niceName=S",
            ],
            input: Array(Self.template.utf8), environment: env)
        #expect(expand.status == 0, "\(expand.stderr)")
        #expect(expand.stdout.hasSuffix(": expanded 2 of 2\n"))
        #expect(try Run.program("render", [], environment: env).stdout == "rendered 2\n")
        let outgoing = spool.maildir(.outgoing).path(of: .new)
        let first = try Message(parsing: try Files.read(outgoing + "/" + Files.list(outgoing)[0]))
        #expect(first.value(of: "Subject") == "Welcome Ada to S")
        #expect(first.value(of: "To") == "\"Ada\" <a@example.org>")
        // JSON Lines keys too.
        try Files.write(directory.file("list.jsonl"), #"{"EMAIL": "b@example.org", "FIRST_NAME": "Bo"}"# + "\n")
        let jobs = try Run.program(
            "expand", ["--stdout", "--recipients", directory.file("list.jsonl"), "--var", "program.niceName=S"],
            input: Array(Self.template.utf8))
        #expect(jobs.status == 0, "\(jobs.stderr)")
        #expect(jobs.stdout.contains("b@example.org"))
    }

    @Test func aListWithNoValidAddressIsAnErrorNotASuccess() throws {
        let spool = try spoolWithList("email,first_name\nnot-an-address,Ada\n,Bo\n")
        let submit = try Run.program(
            "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("students.csv")],
            input: Array(Self.template.utf8))
        #expect(submit.status == 65)
        #expect(
            submit.stderr.contains(
                "no copy has a valid address (2 invalid: line 2 \"not-an-address\", line 3 (empty)); check that the 'email' column"
            ), "\(submit.stderr)")
        #expect(Files.list(spool.maildir(.request).path(of: .new)).isEmpty)
        // A request written by another program is expanded to nothing: it fails, and expand says so.
        let request = try Request(
            template: Array(Self.template.utf8),
            recipients: RecipientList(
                bytes: Array(try Files.read(directory.file("students.csv"))), format: .csv, source: "students.csv"),
            sendTo: .selfOnly)
        try spool.maildir(.request).add(try request.encoded(seed: "x"), as: MessageName(base: "1796000000.M1P1Q1.app"))
        let expand = try Run.program("expand", ["--spool", spool.root])
        #expect(expand.status == 65)
        #expect(expand.stderr.contains("expand: malformed request at 1796000000.M1P1Q1.app: moved to failed/: "))
        let failed = spool.maildir(.failed).path(of: .cur)
        #expect(Files.list(failed) == ["1796000000.M1P1Q1.app:2,"])
        let message = try Message(parsing: try Files.read(failed + "/1796000000.M1P1Q1.app:2,"))
        #expect(message.control(.failure)?.contains("no copy has a valid address") == true)
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).isEmpty)
    }

    @Test func expandToStdoutReportsTheCopiesItSkips() throws {
        try Files.write(directory.file("students.csv"), "email,first_name\na@example.org,Ada\nbad,Bo\n")
        let jobs = try Run.program(
            "expand", ["--stdout", "--recipients", directory.file("students.csv"), "--var", "program.niceName=S"],
            input: Array(Self.template.utf8))
        #expect(jobs.status == 0)
        #expect(jobs.stderr.contains("stdin: to=<bad>, copy=self, line=3, status=skipped (invalid address)"))
    }

    @Test func submitChecksTheTemplateAsRenderWill() throws {
        let spool = try spoolWithList("email,first_name\na@example.org,Ada\n")
        func submit(_ template: [UInt8]) throws -> ProcessResult {
            try Run.program(
                "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("students.csv")],
                input: template)
        }
        let noFrom = try submit(Array("Subject: Hi\n\nHello {{ user.first_name }}\n".utf8))
        #expect(noFrom.status == 65)
        #expect(noFrom.stderr.contains("malformed template: it has no From field; add one"))
        let badSyntax = try submit(Array("From: t@example.org\nSubject: Hi\n\nHello {% if %}\n".utf8))
        #expect(badSyntax.status == 65)
        #expect(Files.list(spool.maildir(.request).path(of: .new)).isEmpty)
        let ownIDs = try submit(
            Array("From: t@example.org\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <x@y>\n\nHi\n".utf8))
        #expect(ownIDs.status == 0)
        #expect(
            ownIDs.stderr.contains(
                "warning: the template's Date, Message-ID will not be sent: every message gets its own Date and Message-ID"
            ))
    }

    @Test func aLatin1TemplateWithoutACharsetIsRefusedNamingTheLine() throws {
        let spool = try spoolWithList("email,first_name\na@example.org,Ada\n")
        let latin1: [UInt8] =
            Array("From: t@example.org\nSubject: Hi\n\nHello,\nCaf".utf8) + [0xE9] + Array(" tonight\n".utf8)
        let refused = try Run.program(
            "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("students.csv")],
            input: latin1)
        #expect(refused.status == 65)
        #expect(
            refused.stderr.contains("text/plain part body line 2: \"Caf\u{FFFD} tonight\" is not UTF-8"),
            "\(refused.stderr)")
        #expect(refused.stderr.contains("declare its charset"))
        // Declared, the charset is honoured.
        let declared: [UInt8] =
            Array("From: t@example.org\nSubject: Hi\nContent-Type: text/plain; charset=iso-8859-1\n\nCaf".utf8) + [0xE9]
            + [10]
        let rendered = try Run.program("render", ["-"], input: Array("To: a@example.org\n".utf8) + declared)
        #expect(rendered.status == 0, "\(rendered.stderr)")
        #expect(try MIMEEntity(Message(parsing: Array(rendered.stdout.utf8))).text == "Café\n")
    }

    @Test func expandAsAFilterWritesJobsStraightIntoTheSpool() throws {
        let spool = try spoolWithList("email,first_name\na@example.org,Ada\n")
        let result = try Run.program(
            "expand",
            ["--spool", spool.root, "--recipients", directory.file("students.csv"), "--var", "program.niceName=S"],
            input: Array(Self.template.utf8))
        #expect(result.status == 0)
        #expect(result.stdout.hasSuffix(": expanded 1 of 1\n"))
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).count == 1)
    }

    @Test func expandToStdoutPipesIntoRenderAsAFilter() throws {
        try Files.write(directory.file("students.csv"), "email,first_name\nzoe@example.org,Zoë\n")
        let jobs = try Run.program(
            "expand", ["--stdout", "--recipients", directory.file("students.csv"), "--var", "program.niceName=Splash"],
            input: Array(Self.template.utf8))
        #expect(jobs.status == 0)
        #expect(jobs.stdout.hasPrefix("From MAILER-DAEMON "))
        // Strip the mbox envelope line and trailing blank line of the single job.
        var lines = jobs.stdout.components(separatedBy: "\n")
        lines.removeFirst()
        let job = lines.joined(separator: "\n").replacingOccurrences(of: "\n\n\n", with: "\n\n")
        let rendered = try Run.program("render", ["-"], input: Array(job.utf8))
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let message = try Message(parsing: Array(rendered.stdout.utf8))
        #expect(message.decodedValue(of: "Subject") == "Welcome Zoë to Splash")
        #expect(message.value(of: "To") == "=?UTF-8?Q?Zo=C3=AB?= <zoe@example.org>")
    }

    @Test func renderAsAFilterFailsWithExit65NamingMissingValues() throws {
        let result = try Run.program(
            "render", ["--filter"],
            input: Array("From: t@example.org\nTo: a@example.org\nSubject: {{ x }}\n\nhi\n".utf8))
        #expect(result.status == 65)
        #expect(
            result.stderr
                == "render: malformed job: the data has no value for {{ x }} (add the column or --var, or render with --allow-missing)\n"
        )
        let allowed = try Run.program(
            "render", ["--filter", "--allow-missing"],
            input: Array("From: t@example.org\nTo: a@example.org\nSubject: {{ x }}\n\nhi\n".utf8))
        #expect(allowed.status == 0)
        let withVar = try Run.program(
            "render", ["--filter", "--var", "x=given", "--var", "user.first_name=Ada"],
            input: Array("From: t@example.org\nTo: a@example.org\nSubject: {{ x }} {{ user.first_name }}\n\nhi\n".utf8))
        #expect(try Message(parsing: Array(withVar.stdout.utf8)).value(of: "Subject") == "given Ada")
    }

    @Test func sendingDomainsComeFromTheConfiguration() throws {
        try Files.write(directory.file("postroom.conf"), "sending_domains = example.org\n")
        let result = try Run.program(
            "render", ["--filter", "--config", directory.file("postroom.conf")],
            input: Array("From: Bob <bob@gmail.com>\nTo: a@example.org\nSubject: s\n\nhi\n".utf8))
        #expect(result.status == 65)
        #expect(
            result.stderr.contains(
                "bob@gmail.com is not in a sending domain (example.org): receivers checking DMARC will reject it"))
    }

    @Test(arguments: [0.05, 0.2, 0.5])
    func killingExpandAndRenderMidwayLosesAndDuplicatesNothing(_ delay: Double) throws {
        let count = 5_000
        let spool = try spoolWithList(
            "email,first_name\n" + (1...count).map { "s\($0)@example.org,S\($0)" }.joined(separator: "\n") + "\n")
        let env = ["POSTROOM_SPOOL": spool.root]
        let submit = try Run.program(
            "postroom", ["submit", "--recipients", directory.file("students.csv"), "--var", "program.niceName=S"],
            input: Array(Self.template.utf8), environment: env)
        let name = submit.stdout.trimmingCharacters(in: .newlines)
        for stage in ["expand", "render"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Run.binary(stage))
            process.arguments = stage == "render" ? ["--queue", "--spool", spool.root] : ["--spool", spool.root]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            Run.kill9(process)
            let rerun = try Run.program(stage, stage == "render" ? ["--queue"] : [], environment: env)
            #expect(rerun.status == 0, "\(stage): \(rerun.stderr)")
        }
        let expected = Set((1...count).map { "\(name).R\($0)" })
        #expect(Set(Files.list(spool.maildir(.outgoing).path(of: .new))) == expected)
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).count == count)
        for queue in [Spool.Queue.expanded, .outgoing] {
            #expect(Files.list(spool.maildir(queue).path(of: .tmp)).isEmpty, "\(queue)")
        }
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).isEmpty)
        #expect(Files.list(spool.maildir(.expanded).path(of: .cur)).isEmpty)
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)).isEmpty)
    }
}
