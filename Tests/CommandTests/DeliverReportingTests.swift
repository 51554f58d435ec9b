import Foundation
import Postroom
import TestSupport
import Testing

/// deliver's health-check reports and its numeric options (issue 8 items 18 and 19).
extension DeliverCommandTests {
    /// A relay URL where nothing listens (a server started and stopped, so the port was free).
    func deadRelay() throws -> String {
        let port: Int
        do {
            let server = try SMTPTestServer(.accept)
            port = server.port
        }
        return "smtp://127.0.0.1:\(port)"
    }

    @Test func aPassThatStoppedEarlyPingsTheFailureURL() throws {
        let (http, port) = try httpServer(status: 200)
        defer { Run.kill9(http) }
        let relay = try deadRelay()
        let (spool, _) = try spool(messages: 6)
        let ping = "http://127.0.0.1:\(port)/ping/abc"
        let down = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", relay, "--tls", "off", "--healthcheck-url", ping])
        #expect(down.status == 75)
        let up = try Run.program(
            "deliver", ["--spool", spool.root, "--maildir", directory.file("box"), "--healthcheck-url", ping + "/"])
        #expect(up.status == 0)
        #expect(try Files.text(directory.file("requests")) == "GET /ping/abc/fail \nGET /ping/abc/ \n")
    }

    @Test func theExitStatusAndUptimeKumaStylesReportAFailedPass() throws {
        let (http, port) = try httpServer(status: 200)
        defer { Run.kill9(http) }
        let relay = try deadRelay()
        // Five connection failures stop a pass: two failing passes, then one good one for the last message.
        let (spool, _) = try spool(messages: 11)
        let base = "http://127.0.0.1:\(port)"
        for style in ["exit-status", "uptime-kuma"] {
            let url = style == "exit-status" ? base + "/hc/abc" : base + "/api/push/T?status=up&msg=OK&ping="
            let result = try Run.program(
                "deliver",
                [
                    "--spool", spool.root, "--smtp", relay, "--tls", "off", "--healthcheck-url", url,
                    "--healthcheck-report", style,
                ])
            #expect(result.status == 75)
        }
        let good = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--maildir", directory.file("box"), "--healthcheck-url", base + "/hc/abc",
                "--healthcheck-report", "exit-status",
            ])
        #expect(good.status == 0)
        let requests = try Files.text(directory.file("requests")).split(separator: "\n").map(String.init)
        #expect(requests.count == 3)
        #expect(requests.first == "GET /hc/abc/75 ")
        #expect(
            requests.dropFirst().first
                == "GET /api/push/T?ping=&status=down&msg=sent%200%2C%20deferred%205%2C%20failed%200%3B%20stopped%20early%3A%205%20connection%20failures%20in%20a%20row "
        )
        #expect(requests.last == "GET /hc/abc/0 ")
        let bad = try Run.program(
            "deliver", ["--spool", spool.root, "--maildir", directory.file("box"), "--healthcheck-report", "loud"])
        #expect(bad.status == 64)
    }

    @Test func hugeNumbersOnTheCommandLineAreUsageErrorsNotCrashes() throws {
        let spool = try directory.spool()
        let local = ["--spool", spool.root, "--maildir", directory.file("box")]
        for arguments in [
            ["--retain-sent", "999999999999999999w"], ["--timeout", "9223372036854775807"],
            ["--reply-timeout", "9223372036854775807"], ["--interval", "9223372036854775807", "--watch"],
            ["--rate", "1e-300"], ["--rate", "inf"], ["--connections", "100000000"], ["--connect-timeout", "-1"],
        ] {
            let result = try Run.program("deliver", local + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(arguments[0]) || result.stderr.contains(arguments[1]), "\(result.stderr)")
        }
    }
}
