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
        let postfix = try PostfixTestServer(command: PipeRecorder.command, spool: directory.file("spool"))
        try expectPipeExitCodesReadAsRouteDocumentsThem(postfix, queued: { "\"\($0)\"" })
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
