import Foundation
import Glibc
import TestSupport
import Testing

/// A private Postfix piping the list domain into a command through examples/postfix/ (the
/// stand-in `PipeRecorder` until route takes its place): what the command receives, and what
/// Postfix makes of each of route's exit codes.
@Suite struct PostfixPipeTests {
    let directory = TemporaryDirectory()
    let domain = PostfixTestServer.listDomain

    @Test func theCommandGetsTheEnvelopeAsArgumentsAndTheMessageAsSent() throws {
        let spool = directory.file("spool")
        let config = directory.file("postroom.conf")
        try Files.write(config, "")
        let postfix = try PostfixTestServer(command: PipeRecorder.command, spool: spool, config: config)
        let message = "From: poster@member.test\nTo: S1-students@\(domain)\nSubject: Hi\n\nbody\n.dot line\nFrom here\n"
        try postfix.submit(from: "poster@member.test", to: ["S1-students+tag@\(domain)"], message: message)
        #expect(postfix.status(of: "S1-students+tag@\(domain)") == "sent", "\(postfix.log())")
        let call = try #require(try PipeRecorder.calls(in: spool).first)
        #expect(
            call.arguments == [
                "--spool", spool, "--config", config, "--recipient", "S1-students+tag@\(domain)", "--sender",
                "poster@member.test",
            ])
        #expect(call.uid == 65534)
        // Postfix's own Received line on top, then the message byte for byte: no Delivered-To,
        // Return-Path or "From " line, no dot-stuffing, no ">From".
        #expect(call.message.hasPrefix("Received: from "))
        #expect(call.message.hasSuffix(message), "\(call.message)")
        #expect(!call.message.contains("Delivered-To:") && !call.message.contains("Return-Path:"))
    }

    @Test func aBounceArrivesWithAnEmptySenderAndEachRecipientIsItsOwnCall() throws {
        let spool = directory.file("spool")
        let postfix = try PostfixTestServer(command: PipeRecorder.command, spool: spool)
        let recipients = ["a@\(domain)", "b@\(domain)", "c@\(domain)"]
        try postfix.submit(from: "", to: recipients, message: "Subject: bounce\n\nreport\n")
        let calls = try PipeRecorder.calls(in: spool, count: 3)
        #expect(calls.count == 3)
        let envelopes = calls.map { Array($0.arguments.suffix(4)) }
        #expect(Set(envelopes) == Set(recipients.map { ["--recipient", $0, "--sender", ""] }))
    }

    @Test func exitCodesDeliverBounceOrDeferAsRouteDocumentsThem() throws {
        let spool = directory.file("spool")
        let postfix = try PostfixTestServer(command: PipeRecorder.command, spool: spool)
        let expected = [0: "sent", 65: "bounced", 67: "bounced", 73: "bounced", 75: "deferred", 77: "bounced"]
        for code in expected.keys.sorted() {
            try postfix.submit(
                from: "poster\(code)@member.test", to: ["exit\(code)@\(domain)"],
                message: "Subject: code \(code)\n\nbody\n")
        }
        for (code, status) in expected {
            #expect(postfix.status(of: "exit\(code)@\(domain)") == status, "exit \(code): \(postfix.log())")
        }
        // The deferred message stays queued; each bounce reaches its poster with the command's reason.
        let queue = try postfix.queue()
        #expect(queue.contains("\"exit75@\(domain)\"") && !queue.contains("exit67@"), "\(queue)")
        let bounces = try postfix.delivered(count: 4)
        #expect(bounces.count == 4)
        for code in [65, 67, 73, 77] {
            let bounce = bounces.first { $0.contains("To: poster\(code)@member.test") }
            #expect(
                bounce?.contains("pipe_recorder: exit \(code) for <exit\(code)@\(domain)>") == true, "\(bounce ?? "")")
        }
    }

    @Test func memberDomainsLandInTheMaildirAndTheRestGoesToTheRelay() throws {
        let relay = try SMTPTestServer(.accept)
        let postfix = try PostfixTestServer(
            command: PipeRecorder.command, spool: directory.file("spool"), relayPort: relay.port)
        try postfix.submit(from: "team@example.org", to: ["kid@member.test"], message: "Subject: local\n\nhi\n")
        try postfix.submit(from: "team@example.org", to: ["kid@elsewhere.test"], message: "Subject: relayed\n\nhi\n")
        #expect(postfix.status(of: "kid@member.test") == "sent" && postfix.status(of: "kid@elsewhere.test") == "sent")
        let local = try postfix.delivered()
        #expect(local.count == 1 && local.first?.contains("Subject: local") == true)
        #expect(try relay.messages().map { $0.contains("Subject: relayed") } == [true])
        #expect(try relay.envelope(1).to == ["kid@elsewhere.test"])
    }
}
