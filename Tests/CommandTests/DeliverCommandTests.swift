import Foundation
import Postroom
import TestSupport
import Testing

/// `deliver` against real SMTP servers (aiosmtpd) on 127.0.0.1 started by the tests.
@Suite struct DeliverCommandTests {
    let directory = TemporaryDirectory()

    func message(_ index: Int, extra: String = "") -> String {
        """
        From: Splash <team@example.org>
        To: "Student \(index)" <s\(index)@example.org>
        Bcc: hidden@example.org
        Subject: Message \(index)
        Message-ID: <m\(index)@example.org>
        X-Postroom-Envelope-To: s\(index)%40example.org
        X-Postroom-Request: req\(extra)

        Line one
        .a line starting with a dot
        .
        end

        """
    }

    func spool(messages count: Int) throws -> (Spool, [String]) {
        let spool = try directory.spool()
        var names: [String] = []
        for index in 1...count {
            let name = MessageName(base: "\(Timestamp.now().seconds).M\(index)P1Q\(index).test")
            try spool.maildir(.outgoing).add(Array(message(index).utf8), as: name)
            names.append(name.fileName)
        }
        return (spool, names)
    }

    @Test func acceptedMessagesAreSentOverOneConnectionAndMovedToSent() throws {
        let server = try SMTPTestServer(.accept)
        let (spool, names) = try spool(messages: 3)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "sent 3, deferred 0, failed 0\n")
        #expect(server.connections == 1)
        let received = try server.messages()
        #expect(received.count == 3)
        for text in received {
            #expect(!text.contains("Bcc:") && !text.contains("X-Postroom-"))
            #expect(text.contains("\r\n.a line starting with a dot\r\n.\r\nend\r\n"))
        }
        let envelopes = try (1...3).map { try server.envelope($0) }
        #expect(envelopes.allSatisfy { $0.from == "team@example.org" })
        #expect(Set(envelopes.flatMap(\.to)) == ["s1@example.org", "s2@example.org", "s3@example.org"])
        #expect(Set(Files.list(spool.maildir(.sent).path(of: .cur))) == Set(names.map { $0 + ":2," }))
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
        // The sent copy keeps its control fields: mark and route need them later.
        #expect(
            try Files.text(spool.maildir(.sent).path(of: .cur) + "/\(names[0]):2,").contains("X-Postroom-Envelope-To"))
        let log = try Files.text(spool.logPath)
        #expect(log.contains("\(names[0]): to=<s1@example.org>, relay=127.0.0.1[127.0.0.1]:\(server.port), delay="))
        #expect(log.contains(", dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as Q"))
    }

    @Test func a4xxReplyDefersWithTheReplyAttemptsAndNextAttempt() throws {
        let server = try SMTPTestServer(.tempfail)
        let (spool, names) = try spool(messages: 1)
        let before = Timestamp.now().seconds
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.status == 0)
        #expect(result.stdout == "sent 0, deferred 1, failed 0\n")
        let path = spool.maildir(.deferred).path(of: .new) + "/" + names[0]
        let deferred = try Message(parsing: try Files.read(path))
        #expect(deferred.control(.attempts) == "1")
        #expect(deferred.control(.lastError) == "451 4.3.0 Mailbox temporarily unavailable, try later")
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        let mtime = Int(modified?.timeIntervalSince1970 ?? 0)
        #expect(mtime >= before + 300 && mtime <= Timestamp.now().seconds + 330)
        #expect(
            result.stderr.contains("dsn=4.3.0, status=deferred (451 4.3.0 Mailbox temporarily unavailable, try later)"))
        // Not due yet: the next pass leaves it alone.
        let again = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(again.stdout == "sent 0, deferred 0, failed 0\n")
    }

    @Test func aDueDeferredMessageIsSentAndKeepsItsName() throws {
        let server = try SMTPTestServer(.accept)
        let spool = try directory.spool()
        try spool.maildir(.deferred).add(
            Array(message(7).utf8), as: MessageName(base: "1700000000.M1P1Q1.test"),
            modificationTime: Timestamp.now().seconds - 10)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.stdout == "sent 1, deferred 0, failed 0\n")
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["1700000000.M1P1Q1.test:2,"])
    }

    @Test func a5xxReplyFailsWithTheServersReply() throws {
        let server = try SMTPTestServer(.permfail)
        let (spool, names) = try spool(messages: 1)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.stdout == "sent 0, deferred 0, failed 1\n")
        let failed = try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/\(names[0]):2,"))
        #expect(failed.control(.failure) == "550 5.1.1 <s1@example.org>: Recipient address rejected: User unknown")
        #expect(failed.control(.failedIn) == "deliver")
        #expect(result.stderr.contains("dsn=5.1.1, status=bounced (550 5.1.1"))
    }

    @Test func aFailureReportGoesToTheSenderAndNeverCausesAnother() throws {
        let server = try SMTPTestServer(.permfail)
        let (spool, names) = try spool(messages: 1)
        let arguments = ["--spool", spool.root, "--smtp", server.url, "--tls", "off", "--failure-reports"]
        let first = try Run.program("deliver", arguments + ["--max-messages", "1"])
        #expect(first.stdout == "sent 0, deferred 0, failed 1\n")
        let reports = Files.list(spool.maildir(.outgoing).path(of: .new))
        #expect(reports.count == 1)
        let path = spool.maildir(.outgoing).path(of: .new) + "/" + reports[0]
        let report = try Message(parsing: try Files.read(path))
        #expect(report.value(of: "To") == "<team@example.org>")
        #expect(report.control(.envelopeFrom) == "")
        #expect(try Envelope(of: report).sender == nil)
        let python = try Run.program(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import email, email.policy, sys
                m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
                parts = [p.get_content_type() for p in m.iter_parts()]
                status = m.get_payload()[1].get_payload()[1]
                print(m.get_content_type(), m.get_param("report-type"), parts, len(m.defects), status["Action"], status["Status"])
                """, path,
            ])
        #expect(
            python.stdout
                == "multipart/report delivery-status ['text/plain', 'message/delivery-status', 'text/rfc822-headers'] 0 failed 5.1.1\n",
            "\(python.stderr)")
        #expect(try Files.text(spool.logPath).contains("\(names[0]): to=<team@example.org>, status=reported"))
        // The report is refused too: it fails, and no report about a report is made.
        let second = try Run.program("deliver", arguments)
        #expect(second.stdout == "sent 0, deferred 0, failed 1\n")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)).count == 2)
    }

    @Test func aDroppedConnectionDefers() throws {
        let server = try SMTPTestServer(.drop)
        let (spool, _) = try spool(messages: 1)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.stdout.hasPrefix("sent 0, deferred 1, failed 0"))
        #expect(Files.list(spool.maildir(.deferred).path(of: .new)).count == 1)
    }

    @Test(arguments: [
        ("--reply-timeout", "timed out after 2 s waiting for the reply to the end of the message"),
        ("--timeout", "the message ran out of its overall time waiting for the reply to the end of the message"),
    ])
    func aServerSlowerThanTheTimeoutDefers(option: String, reason: String) throws {
        let server = try SMTPTestServer(.slow)
        let (spool, _) = try spool(messages: 1)
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off", option, "2"])
        #expect(result.stdout.hasPrefix("sent 0, deferred 1, failed 0"))
        #expect(result.stderr.contains(reason))
    }

    @Test func anUnreachableRelayStopsThePassAfterFiveFailuresAndExits75() throws {
        let port: Int
        do {
            let server = try SMTPTestServer(.accept)
            port = server.port
        }  // stopped: nothing listens there now
        let (spool, _) = try spool(messages: 7)
        let result = try Run.program(
            "deliver",
            ["--spool", spool.root, "--smtp", "smtp://127.0.0.1:\(port)", "--tls", "off", "--connect-timeout", "5"])
        #expect(result.status == 75)
        #expect(result.stdout == "sent 0, deferred 5, failed 0; stopped early: 5 connection failures in a row\n")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).count == 2)
        // The message claimed ahead of the stop went back, not left in cur/ for recovery.
        #expect(Files.list(spool.maildir(.outgoing).path(of: .cur)).isEmpty)
        #expect(result.stderr.contains("pass stopped after 5 connection failures in a row"))
    }

    @Test func withoutATransportDeliverRefusesWith78AndSaysHowToChoose() throws {
        let (spool, names) = try spool(messages: 2)
        let result = try Run.program("deliver", ["--spool", spool.root])
        #expect(result.status == 78)
        #expect(result.stderr.contains("deliver does not know where to send mail: give --smtp"))
        #expect(result.stderr.contains("--maildir DIR") && result.stderr.contains("'transport' in postroom.conf"))
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)) == names.sorted())
        #expect(!FileManager.default.fileExists(atPath: spool.root + "/mailbox"))
        #expect(!((try? Files.text(spool.logPath)) ?? "").contains("status=sent"))
    }

    @Test func theConfigurationFileCanChooseTheTransport() throws {
        let (spool, _) = try spool(messages: 1)
        try Files.write(directory.file("postroom.conf"), "transport = maildir:\(directory.file("box"))\n")
        let result = try Run.program("deliver", ["--spool", spool.root, "--config", directory.file("postroom.conf")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Files.list(directory.file("box/new")).count == 1)
        try Files.write(directory.file("bad.conf"), "transport = relay.example.org\n")
        let bad = try Run.program("deliver", ["--spool", spool.root, "--config", directory.file("bad.conf")])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("\"relay.example.org\" is not a transport: use smtp://host:port"))
    }

    @Test func theMaildirTransportDeliversLocally() throws {
        let (spool, _) = try spool(messages: 2)
        let result = try Run.program("deliver", ["--spool", spool.root, "--maildir", spool.root + "/mailbox"])
        #expect(result.status == 0)
        let delivered = Files.list(spool.root + "/mailbox/new")
        #expect(delivered.count == 2)
        let text = try Files.text(spool.root + "/mailbox/new/" + delivered[0])
        #expect(text.hasPrefix("Return-Path: <team@example.org>\nDelivered-To: s"))
        #expect(!text.contains("Bcc:") && !text.contains("X-Postroom-"))
    }

    @Test func dryRunPrintsExactlyWhatTheServerWouldReceive() throws {
        try Files.write(directory.file("m.eml"), message(1))
        let result = try Run.program("deliver", ["--dry-run", directory.file("m.eml")])
        #expect(result.status == 0)
        #expect(
            result.stdout == "MAIL FROM:<team@example.org>\r\nRCPT TO:<s1@example.org>\r\nDATA\r\n"
                + "From: Splash <team@example.org>\r\nTo: \"Student 1\" <s1@example.org>\r\nSubject: Message 1\r\nMessage-ID: <m1@example.org>\r\n\r\n"
                + "Line one\r\n..a line starting with a dot\r\n..\r\nend\r\n.\r\n")
    }

    @Test func anUnreadableMessageFailsAloneAndTheRestFlows() throws {
        let server = try SMTPTestServer(.accept)
        let (spool, _) = try spool(messages: 1)
        try Files.write(spool.maildir(.outgoing).path(of: .new) + "/broken", "no header here\n")
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.stdout == "sent 1, deferred 0, failed 1\n")
        let failed = try Files.text(spool.maildir(.failed).path(of: .cur) + "/broken:2,")
        #expect(failed.hasSuffix("no header here\n"))
        #expect(failed.contains("X-Postroom-Failure:"))
    }

    func passwordFile(_ password: String) throws -> String {
        try Files.write(directory.file("password"), password + "\n")
        chmod(directory.file("password"), 0o600)
        return directory.file("password")
    }

    @Test func starttlsWithASelfSignedCertificateAndAuthWork() throws {
        let server = try SMTPTestServer(.secure)
        let (spool, _) = try spool(messages: 2)
        let result = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--smtp", server.url, "--tls", "required", "--ca-file", server.certificate,
                "--user", "postroom", "--password-file", try passwordFile("s3cret"),
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "sent 2, deferred 0, failed 0\n")
        #expect(try server.envelope(1).tls)
        #expect(try server.envelope(1).login == "postroom")
        #expect(server.connections == 1)
    }

    @Test func aRefusedLoginDefersInsteadOfFailingTheMessages() throws {
        let server = try SMTPTestServer(.secure)
        let (spool, _) = try spool(messages: 1)
        let result = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--smtp", server.url, "--tls", "required", "--ca-file", server.certificate,
                "--user", "postroom", "--password-file", try passwordFile("wrong"),
            ])
        #expect(result.stdout.hasPrefix("sent 0, deferred 1, failed 0"))
        #expect(result.stderr.contains("Login denied"))
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)).isEmpty)
    }

    @Test func anUntrustedCertificateIsNotUsed() throws {
        let server = try SMTPTestServer(.secure)
        let (spool, _) = try spool(messages: 1)
        let result = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--smtp", server.url, "--tls", "required",
                "--user", "postroom", "--password-file", try passwordFile("s3cret"),
            ])
        #expect(result.stdout.hasPrefix("sent 0, deferred 1, failed 0"))
        #expect(try server.messages().isEmpty)
    }

    @Test func requiredTLSWithoutStarttlsDefers() throws {
        let server = try SMTPTestServer(.accept)
        let (spool, _) = try spool(messages: 1)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "required"])
        #expect(result.stdout.hasPrefix("sent 0, deferred 1, failed 0"))
        #expect(try server.messages().isEmpty)
    }

    /// A local HTTP server answering `status`, logging requests to `directory/requests`.
    func httpServer(status: Int) throws -> (Process, Int) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/http_server.py").path
        let (process, pipe) = try Run.start("/usr/bin/python3", [script, String(status), directory.path])
        let line = Run.firstLine(of: pipe)
        return (process, Int(line.dropFirst(5)) ?? 0)
    }

    @Test func theHealthCheckIsPingedAfterThePass() throws {
        let (http, port) = try httpServer(status: 200)
        defer { Run.kill9(http) }
        let (spool, _) = try spool(messages: 2)
        let result = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--maildir", spool.root + "/mailbox", "--healthcheck-url",
                "http://127.0.0.1:\(port)/ping/abc", "--healthcheck-method",
                "POST",
            ])
        #expect(result.status == 0)
        #expect(try Files.text(directory.file("requests")) == "POST /ping/abc sent 2, deferred 0, failed 0\n")
        #expect(!result.stderr.contains("health check failed"))
    }

    @Test func aFailedHealthCheckIsAWarningNotAFailure() throws {
        let (http, port) = try httpServer(status: 503)
        defer { Run.kill9(http) }
        let (spool, _) = try spool(messages: 1)
        let result = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--maildir", spool.root + "/mailbox", "--healthcheck-url",
                "http://127.0.0.1:\(port)/", "--healthcheck-method", "HEAD",
            ])
        #expect(result.status == 0)
        #expect(result.stdout == "sent 1, deferred 0, failed 0\n")
        #expect(result.stderr.contains("status=warning (health check failed: HTTP status 503)"))
        #expect(try Files.text(directory.file("requests")) == "HEAD / \n")
        let bad = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--maildir", spool.root + "/mailbox", "--healthcheck-url",
                "http://127.0.0.1:\(port)/", "--healthcheck-method", "PUT",
            ])
        #expect(bad.status == 64)
    }

    /// A program with sendmail's command line that records what it got and exits with `status`.
    func fakeSendmail(exiting status: Int32, complaint: String = "") throws -> String {
        let path = directory.file("sendmail")
        try Files.write(
            path,
            """
            #!/bin/sh
            echo "$@" >> \(directory.file("sendmail.args"))
            cat >> \(directory.file("sendmail.input"))
            [ -n "\(complaint)" ] && echo "\(complaint)" >&2
            exit \(status)

            """)
        chmod(path, 0o755)
        return path
    }

    @Test func theSendmailPipeGetsTheEnvelopeAndTheMessage() throws {
        let (spool, names) = try spool(messages: 1)
        let result = try Run.program("deliver", ["--spool", spool.root, "--sendmail", try fakeSendmail(exiting: 0)])
        #expect(result.stdout == "sent 1, deferred 0, failed 0\n")
        #expect(try Files.text(directory.file("sendmail.args")) == "-i -f team@example.org -- s1@example.org\n")
        let input = try Files.text(directory.file("sendmail.input"))
        #expect(
            input.hasPrefix("From: Splash <team@example.org>\n") && !input.contains("Bcc:")
                && !input.contains("X-Postroom-"))
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == [names[0] + ":2,"])
    }

    @Test func sendmailExitCodesMapLikeSMTPReplies() throws {
        let (spool, _) = try spool(messages: 1)
        let deferred = try Run.program(
            "deliver", ["--spool", spool.root, "--sendmail", try fakeSendmail(exiting: 75, complaint: "queue full")])
        #expect(deferred.stdout == "sent 0, deferred 1, failed 0\n")
        #expect(deferred.stderr.contains("status=deferred (451 4.3.0 exit status 75: queue full)"))
        try Files.move(
            spool.maildir(.deferred).path(of: .new) + "/" + Files.list(spool.maildir(.deferred).path(of: .new))[0],
            spool.maildir(.outgoing).path(of: .new) + "/again")
        let failed = try Run.program(
            "deliver", ["--spool", spool.root, "--sendmail", try fakeSendmail(exiting: 67, complaint: "no such user")])
        #expect(failed.stdout == "sent 0, deferred 0, failed 1\n")
        #expect(failed.stderr.contains("status=bounced (550 5.3.0 exit status 67: no such user)"))
    }

    @Test func theRateLimitSpacesMessagesOut() throws {
        let (spool, _) = try spool(messages: 6)
        let start = Date()
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--maildir", spool.root + "/mailbox", "--rate", "10/s"])
        #expect(result.stdout == "sent 6, deferred 0, failed 0\n")
        // Six sends at 10/s need at least five gaps of 0.1 s; no upper bound (the machine is shared).
        #expect(Date().timeIntervalSince(start) >= 0.5)
        #expect(
            try Run.program("deliver", ["--spool", spool.root, "--maildir", spool.root + "/mailbox", "--rate", "fast"])
                .status == 64)
    }

    @Test func retainSentPrunesOldRecordsButNeverFailed() throws {
        let spool = try directory.spool()
        try Files.write(spool.maildir(.sent).path(of: .cur) + "/old:2,", "x")
        try Files.write(spool.maildir(.failed).path(of: .cur) + "/kept:2,", "x")
        let keep = try Run.program(
            "deliver", ["--spool", spool.root, "--maildir", spool.root + "/mailbox", "--retain-sent", "1h"])
        #expect(keep.status == 0)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["old:2,"])
        let prune = try Run.program(
            "deliver", ["--spool", spool.root, "--maildir", spool.root + "/mailbox", "--retain-sent", "0s"])
        #expect(prune.status == 0)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)).isEmpty)
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)) == ["kept:2,"])
        #expect(try Files.text(spool.logPath).contains("status=pruned (removed 1 records older than 0s from sent/)"))
        #expect(
            try Run.program(
                "deliver", ["--spool", spool.root, "--maildir", spool.root + "/mailbox", "--retain-sent", "a while"]
            ).status == 64)
    }

    @Test func watchDeliversNewMessagesWithoutBusyLooping() throws {
        let spool = try directory.spool()
        // A deferred message not due for an hour must not make the watcher spin.
        try spool.maildir(.deferred).add(
            Array(message(9).utf8), as: MessageName(base: "1795000000.M9P1Q9.test"),
            modificationTime: Timestamp.now().seconds + 3600)
        let watcher = try Run.start(
            "deliver", ["--spool", spool.root, "--maildir", spool.root + "/mailbox", "--watch", "--interval", "30"])
        defer { Run.kill9(watcher.0) }
        Thread.sleep(forTimeInterval: 1)
        try spool.maildir(.outgoing).add(Array(message(1).utf8), as: MessageName(base: "1795000000.M1P1Q1.test"))
        let deadline = Date().addingTimeInterval(15)
        while Files.list(spool.maildir(.sent).path(of: .cur)).isEmpty && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(Files.list(spool.root + "/mailbox/new").count == 1)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)) == ["1795000000.M1P1Q1.test:2,"])
        #expect(Files.list(spool.maildir(.deferred).path(of: .new)) == ["1795000000.M9P1Q9.test"])
        // CPU ticks used by the watcher: a busy loop would burn about one per 10 ms of waiting.
        Thread.sleep(forTimeInterval: 1)
        let stat = try Files.text("/proc/\(watcher.0.processIdentifier)/stat").split(separator: " ")
        let ticks = (Int(stat[13]) ?? 0) + (Int(stat[14]) ?? 0)
        #expect(ticks < 50, "the watcher used \(ticks) CPU ticks while idle")
    }

    @Test func aPasswordFileReadableByOthersIsRefusedWith78() throws {
        let (spool, _) = try spool(messages: 1)
        try Files.write(directory.file("password"), "secret\n")
        chmod(directory.file("password"), 0o644)
        let result = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--smtp", "smtp://127.0.0.1:1", "--user", "u", "--password-file",
                directory.file("password"),
            ])
        #expect(result.status == 78)
        #expect(result.stderr.contains("chmod 600"))
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).count == 1)
    }
}
