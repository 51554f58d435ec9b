import Foundation
import TestSupport
import Testing

/// A private Exim piping the list domain into a command through examples/exim/ (the stand-in
/// `PipeRecorder` until route takes its place): what the command receives, and what Exim makes
/// of each of route's exit codes.
@Suite struct EximPipeTests {
    let directory = TemporaryDirectory()
    let domain = EximTestServer.listDomain

    @Test func theCommandGetsTheEnvelopeInItsEnvironmentAndTheMessageAsSent() throws {
        let spool = directory.file("spool")
        let config = directory.file("postroom.conf")
        try Files.write(config, "")
        let exim = try EximTestServer(command: PipeRecorder.command, spool: spool, config: config)
        let message = "From: poster@member.test\nTo: S1-students@\(domain)\nSubject: Hi\n\nbody\n.dot line\nFrom here\n"
        try exim.submit(from: "poster@member.test", to: ["S1-students+tag@\(domain)"], message: message)
        #expect(exim.status(of: "S1-students+tag@\(domain)") == "delivered", "\(exim.mainLog())")
        let call = try #require(try PipeRecorder.calls(in: spool).first)
        #expect(call.arguments == ["--spool", spool, "--config", config])
        #expect(
            call.environment == [
                "RECIPIENT": "S1-students+tag@\(domain)", "LOCAL_PART": "S1-students", "LOCAL_PART_SUFFIX": "+tag",
                "DOMAIN": domain, "SENDER": "poster@member.test",
            ])
        #expect(call.uid == Int(try Run.program("/usr/bin/id", ["-u", "Debian-exim"]).stdout.dropLast()))
        // Exim's own Received line on top, then the message byte for byte: no "From " line,
        // Return-Path or Delivered-To, no dot-stuffing, no ">From".
        #expect(call.message.hasPrefix("Received: from "))
        #expect(call.message.hasSuffix(message), "\(call.message)")
        #expect(!call.message.contains("Delivered-To:") && !call.message.contains("Return-Path:"))
    }

    @Test func aBounceArrivesWithAnEmptySenderAndEachRecipientIsItsOwnCall() throws {
        let spool = directory.file("spool")
        let exim = try EximTestServer(command: PipeRecorder.command, spool: spool)
        let recipients = ["a@\(domain)", "b@\(domain)", "c@\(domain)"]
        try exim.submit(from: "", to: recipients, message: "Subject: bounce\n\nreport\n")
        let calls = try PipeRecorder.calls(in: spool, count: 3)
        #expect(calls.count == 3)
        #expect(Set(calls.compactMap { $0.environment["RECIPIENT"] }) == Set(recipients))
        #expect(calls.allSatisfy { $0.environment["SENDER"] == "" })
    }

    @Test func exitCodesDeliverBounceOrDeferAsRouteDocumentsThem() throws {
        let exim = try EximTestServer(command: PipeRecorder.command, spool: directory.file("spool"))
        try expectPipeExitCodesReadAsRouteDocumentsThem(exim, queued: { $0 })
    }
}
