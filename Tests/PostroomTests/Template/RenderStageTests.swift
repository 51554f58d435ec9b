import Foundation
import Postroom
import TestSupport
import Testing

@Suite struct RenderStageTests {
    let directory = TemporaryDirectory()

    func pipeline(template: String, csv: String) throws -> (Spool, RenderStage) {
        let spool = try directory.spool()
        let log = try SpoolLog(path: spool.logPath, program: "test", echo: false)
        let expander = try Expander(spool: spool, log: log)
        _ = try expander.submit(
            try Request(
                template: Array(template.utf8),
                recipients: RecipientList(bytes: Array(csv.utf8), format: .csv, source: "l.csv"),
                sendTo: .selfOnly, variables: [("program.niceName", "Splash")]))
        _ = try expander.run()
        var renderer = Renderer()
        renderer.now = { Timestamp(seconds: 1_795_336_174) }
        let stage = RenderStage(spool: spool, log: log, renderer: renderer)
        stage.batchSize = 7
        return (spool, stage)
    }

    @Test func rendersEveryJobIntoOutgoingAndRemovesTheJobs() throws {
        let csv = "email,first_name\n" + (1...20).map { "s\($0)@example.org,S\($0)" }.joined(separator: "\n")
        let (spool, stage) = try pipeline(
            template: "From: t@example.org\nSubject: {{ program.niceName }}\n\nHi {{ user.first_name }}\n", csv: csv)
        #expect(try stage.run() == RenderStage.Summary(rendered: 20, failed: 0, alreadyRendered: 0))
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).isEmpty)
        #expect(Files.list(spool.maildir(.expanded).path(of: .cur)).isEmpty)
        let outgoing = Files.list(spool.maildir(.outgoing).path(of: .new))
        #expect(outgoing.count == 20)
        let message = try Message(
            parsing: try Files.read(
                spool.maildir(.outgoing).path(of: .new) + "/" + outgoing.first { $0.hasSuffix(".R3") }!))
        #expect(message.value(of: "To") == #""S3" <s3@example.org>"#)
        #expect(message.body == Array("Hi S3\n".utf8))
        #expect(message.value(of: "Message-ID") == "<\(outgoing.first { $0.hasSuffix(".R3") }!)@example.org>")
    }

    @Test func severalWorkersRenderEachJobExactlyOnce() throws {
        let csv = "email,first_name\n" + (1...300).map { "s\($0)@example.org,S\($0)" }.joined(separator: "\n")
        let (spool, stage) = try pipeline(
            template: "From: t@example.org\nSubject: s\n\nHi {{ user.first_name }}\n", csv: csv)
        stage.workers = 4
        stage.batchSize = 16
        #expect(try stage.run() == RenderStage.Summary(rendered: 300))
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).count == 300)
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).isEmpty)
        #expect(Files.list(spool.maildir(.expanded).path(of: .cur)).isEmpty)
        let rendered = try Files.text(spool.logPath).split(separator: "\n").filter { $0.contains("status=rendered") }
        #expect(rendered.count == 300)
    }

    @Test func aJobWithMissingDataFailsAloneWithTheNames() throws {
        let csv = "email,first_name,nickname\na@example.org,A,Ace\nb@example.org,B,\nc@example.org,C,Cee\n"
        let (spool, stage) = try pipeline(
            template: "From: t@example.org\nSubject: s\n\n{{ user.nickname }} {{ user.age }}\n", csv: csv)
        // Every row lacks age: all fail, each naming it; the queue still drains.
        let summary = try stage.run()
        #expect(summary.failed == 3)
        let failed = Files.list(spool.maildir(.failed).path(of: .cur))
        let message = try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/" + failed[0]))
        #expect(
            message.control(.failure)
                == "malformed job: the data has no value for {{ user.age }} (add the column or --var, or render with --allow-missing)"
        )
        #expect(message.control(.failedIn) == "render")
        #expect(message.control(.envelopeTo) != nil)
    }

    /// Item 3 of issue 8: killed between its two renames, a render leaves the claim holding the
    /// rendered message; recovery, still holding the claim, moves it on rather than rendering again.
    @Test func aRecoveredClaimThatHoldsItsMessageIsMovedOnNotRenderedAgain() throws {
        let (spool, stage) = try pipeline(
            template: "From: t@example.org\nSubject: s\n\nx\n", csv: "email\na@example.org\nb@example.org\n")
        let expanded = spool.maildir(.expanded)
        let outgoing = spool.maildir(.outgoing)
        _ = try stage.run()
        let name = try #require(Files.list(outgoing.path(of: .new)).first { $0.hasSuffix(".R1") })
        let rendered = try Files.read(outgoing.path(of: .new) + "/" + name)
        try Files.move(outgoing.path(of: .new) + "/" + name, expanded.path(of: .cur) + "/" + name)
        let summary = try stage.run()
        #expect(summary == RenderStage.Summary(rendered: 0, failed: 0, alreadyRendered: 1))
        #expect(Files.list(expanded.path(of: .new)).isEmpty && Files.list(expanded.path(of: .cur)).isEmpty)
        #expect(try Files.read(outgoing.path(of: .new) + "/" + name) == rendered)
        #expect(Files.list(outgoing.path(of: .new)).count == 2)
    }

    @Test func aJobWhoseRequestIsGoneFailsWithTheReason() throws {
        let (spool, stage) = try pipeline(
            template: "From: t@example.org\nSubject: s\n\nx\n", csv: "email\na@example.org\n")
        for file in Files.list(spool.maildir(.request).path(of: .cur)) {
            try Files.move(spool.maildir(.request).path(of: .cur) + "/" + file, directory.file("moved-away"))
        }
        #expect(try stage.run().failed == 1)
        let failed = Files.list(spool.maildir(.failed).path(of: .cur))
        let reason = try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/" + failed[0]))
            .control(.failure)
        #expect(reason?.contains("the request was removed before all its jobs were rendered") == true)
    }

    /// Item 7 of issue 8: a request that cannot be read for a passing reason (here EISDIR, as
    /// EIO or EMFILE would be) used to be remembered as broken, failing every job of the mailing.
    @Test func aPassingErrorReadingTheRequestLeavesItsJobsForTheNextRun() throws {
        let (spool, stage) = try pipeline(
            template: "From: t@example.org\nSubject: s\n\nx\n", csv: "email\na@example.org\nb@example.org\n")
        let requests = spool.maildir(.request).path(of: .cur)
        let request = try #require(Files.list(requests).first)
        try Files.move(requests + "/" + request, directory.file("request"))
        try FileManager.default.createDirectory(atPath: requests + "/" + request, withIntermediateDirectories: false)
        #expect(throws: PostroomError.self) { try stage.run() }
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)).isEmpty)
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).count == 2)
        #expect(Files.list(spool.maildir(.expanded).path(of: .cur)).isEmpty)
        try Files.remove(requests + "/" + request)
        try Files.move(directory.file("request"), requests + "/" + request)
        #expect(try stage.run().rendered == 2)
    }
}
