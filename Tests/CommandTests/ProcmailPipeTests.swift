import Foundation
import TestSupport
import Testing

/// procmail with examples/procmail/procmailrc piping into a command (the stand-in
/// `PipeRecorder` until route takes its place): the MTA's environment reaches the command, and
/// the command's exit code reaches the MTA.
@Suite struct ProcmailPipeTests {
    let directory = TemporaryDirectory()

    @Test func theCommandGetsTheMTAsEnvironmentAndTheMessage() throws {
        let spool = directory.file("spool")
        let message = "From: poster@member.test\nSubject: Hi\n\nbody\nFrom here\n"
        let environment = [
            "RECIPIENT": "S1-students@lists.example.org", "ORIGINAL_RECIPIENT": "S1-students@lists.example.org",
            "SENDER": "",
        ]
        let result = try Procmail.deliver(
            message, command: PipeRecorder.command, spool: spool, config: directory.file("postroom.conf"),
            environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let call = try #require(try PipeRecorder.calls(in: spool).first)
        #expect(call.arguments == ["--spool", spool, "--config", directory.file("postroom.conf")])
        #expect(call.environment == environment)
        // procmail ends a message with an empty line, the mbox habit (DKIM body hashes ignore it).
        #expect(call.message == message + "\n")
    }

    @Test func theCommandsExitCodeIsProcmailsExitCode() throws {
        let spool = directory.file("spool")
        for code in [0, 65, 67, 73, 75, 77] {
            let result = try Procmail.deliver(
                "Subject: code \(code)\n\nbody\n", command: PipeRecorder.command, spool: spool,
                environment: ["RECIPIENT": "exit\(code)@lists.example.org", "SENDER": "poster@member.test"])
            #expect(result.status == code, "\(result.stderr)")
        }
        #expect(try PipeRecorder.calls(in: spool, count: 6).count == 6)
    }
}
