import Postroom
import TestSupport
import Testing

@Suite struct RequestFormatTests {
    @Test func requestsRoundTripWithVariablesAndAttachments() throws {
        let list = RecipientList(
            bytes: Array("email\n--=_pr_x\na@example.org\n".utf8), format: .csv, source: "students.csv")
        let request = try Request(
            template: Array("From: t@example.org\r\nSubject: Hi {{ user.email }}\r\n\r\nBody\r\n".utf8),
            recipients: list,
            sendTo: try SendTo(parsing: "self,guardian"),
            variables: [("program.niceName", "Splash 2026"), ("x", "a=b%c\nd")],
            attachments: [
                Request.Attachment(fileName: "été.pdf", mediaType: "application/pdf", content: [0, 1, 2, 255])
            ], isBulk: false)
        let bytes = try request.encoded(seed: "x")
        let parsed = try Request(parsing: bytes, source: "request")
        #expect(parsed.template == Array("From: t@example.org\nSubject: Hi {{ user.email }}\n\nBody\n".utf8))
        #expect(parsed.recipients.bytes == list.bytes)
        #expect(parsed.recipients.format == .csv)
        #expect(parsed.sendTo.copies == [.self, .guardian])
        #expect(parsed.variables.map { "\($0.name)=\($0.value)" } == ["program.niceName=Splash 2026", "x=a=b%c\nd"])
        #expect(parsed.attachments == request.attachments)
        #expect(!parsed.isBulk)
        // People browsing request/ see what it is about.
        #expect(try Message(parsing: bytes).value(of: "Subject") == "Hi {{ user.email }}")
    }

    @Test func nonRequestsAreRefusedWithTheFormatNamed() {
        #expect {
            _ = try Request(parsing: Array("Subject: x\n\nbody\n".utf8), source: "request/new/x")
        } throws: { error in
            (error as? PostroomError)?.description.contains(
                "multipart/mixed message with template and recipients parts") == true
        }
    }

    @Test func variableSyntaxIsChecked() throws {
        #expect(try Request.variable("program.niceName=Splash = 2026").value == "Splash = 2026")
        for bad in ["noequals", "=value", "bad name=x", "a..b=x", "a.=x"] {
            #expect(throws: PostroomError.self, "\(bad)") { _ = try Request.variable(bad) }
        }
    }
}

@Suite struct ExpanderTests {
    let directory = TemporaryDirectory()
    static let csv =
        "email,first_name,guardian_name,guardian_email\n"
        + (1...50).map { "s\($0)@example.org,S\($0),G\($0),g\($0)@example.org" }.joined(separator: "\n") + "\n"

    func setUp(csv: String = csv, suppress: String = "") throws -> (Spool, Expander, MessageName) {
        let spool = try directory.spool()
        try Files.write(spool.suppressPath, suppress)
        let log = try SpoolLog(path: spool.logPath, program: "expand", echo: false)
        let expander = try Expander(spool: spool, log: log)
        let request = try Request(
            template: Array("From: t@example.org\nSubject: s\n\nb\n".utf8),
            recipients: RecipientList(bytes: Array(csv.utf8), format: .csv, source: "list.csv"),
            sendTo: try SendTo(parsing: "self,guardian"))
        let name = try expander.submit(request)
        return (spool, expander, name)
    }

    func jobs(_ spool: Spool) -> [String] { Files.list(spool.maildir(.expanded).path(of: .new)) }

    /// Bulk mail honours only entries for all mail: an address that left one list still gets it.
    @Test func aListScopedSuppressionDoesNotStopBulkMail() throws {
        let (spool, expander, _) = try setUp(suppress: "g7@example.org list=s1-students@site 2026-12-02 unsubscribed\n")
        #expect(try expander.run().map(\.description) == ["expanded 100 of 100"])
        #expect(jobs(spool).count == 100)
    }

    @Test func expandsEveryCopyAndMarksTheRequestDone() throws {
        let (spool, expander, name) = try setUp(suppress: "g7@example.org\n")
        let summaries = try expander.run()
        #expect(summaries.map(\.description) == ["expanded 99 of 100: 1 suppressed"])
        #expect(jobs(spool).count == 99)
        #expect(Set(jobs(spool)) == Set((1...99).map { "\(name.base).R\($0)" }))
        #expect(Files.list(spool.maildir(.request).path(of: .cur)) == ["\(name.base):2,PS"])
        #expect(Files.list(spool.maildir(.expanded).path(of: .tmp)).isEmpty)
        let job = try Job(
            try Message(parsing: try Files.read(spool.maildir(.expanded).path(of: .new) + "/\(name.base).R2")),
            source: "R2")
        #expect(job.copy == .guardian && job.envelopeTo == "g1@example.org" && job.toName == "G1")
        #expect(job.recipient["email"] == .string("s1@example.org"))
        #expect(try expander.run().isEmpty)
    }

    @Test func aCrashWhileStagingIsRedoneWithoutDuplicates() throws {
        let (spool, expander, name) = try setUp()
        // The dead run had claimed the request and staged some jobs, then died before flagging it.
        let requests = spool.maildir(.request)
        try Files.move(requests.path(of: name, in: .new), requests.path(of: name, in: .cur))
        for index in 1...30 {
            try Files.write(spool.maildir(.expanded).path(of: .tmp) + "/\(name.base).R\(index)", "partial")
        }
        _ = try expander.run()
        #expect(jobs(spool).count == 100)
        #expect(Files.list(spool.maildir(.expanded).path(of: .tmp)).isEmpty)
        #expect(try Files.text(spool.maildir(.expanded).path(of: .new) + "/\(name.base).R1") != "partial")
    }

    @Test func aCrashWhilePublishingOnlyPublishesWhatIsLeft() throws {
        let (spool, expander, name) = try setUp()
        let expanded = spool.maildir(.expanded)
        // Run it fully, then rebuild the state of a run that died half-way through publishing.
        _ = try expander.run()
        for index in 61...100 {
            try Files.move(
                expanded.path(of: .new) + "/\(name.base).R\(index)", expanded.path(of: .tmp) + "/\(name.base).R\(index)"
            )
        }
        let requests = spool.maildir(.request)
        try Files.move(requests.path(of: .cur) + "/\(name.base):2,PS", requests.path(of: .cur) + "/\(name.base):2,P")
        // A job already published may even have been rendered and sent meanwhile.
        try Files.move(
            expanded.path(of: .new) + "/\(name.base).R1", spool.maildir(.sent).path(of: .cur) + "/\(name.base).R1:2,")
        let summaries = try expander.run()
        #expect(summaries.map(\.expanded) == [40])
        #expect(jobs(spool).count == 99)
        #expect(Files.list(expanded.path(of: .tmp)).isEmpty)
        #expect(Files.list(requests.path(of: .cur)) == ["\(name.base):2,PS"])
    }

    @Test func aMalformedListMovesTheRequestToFailedAndPublishesNothing() throws {
        let (spool, expander, _) = try setUp(csv: "email\na@example.org\n\"broken\nb@example.org\n")
        #expect(try expander.run().isEmpty)
        #expect(jobs(spool).isEmpty)
        #expect(Files.list(spool.maildir(.expanded).path(of: .tmp)).isEmpty)
        let failed = Files.list(spool.maildir(.failed).path(of: .cur))
        #expect(failed.count == 1)
        let message = try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/" + failed[0]))
        #expect(message.control(.failure)?.contains("line 3: a quoted field is never closed") == true)
        #expect(message.control(.failedIn) == "expand")
        // Nothing was lost: the request is intact under the failure fields.
        #expect(
            try Request(parsing: message.bytes, source: "x").recipients.bytes
                == Array("email\na@example.org\n\"broken\nb@example.org\n".utf8))
    }
}
