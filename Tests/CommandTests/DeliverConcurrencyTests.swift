import Foundation
import Postroom
import TestSupport
import Testing

/// Several deliver processes, and deliver killed mid-pass.
@Suite struct DeliverConcurrencyTests {
    let directory = TemporaryDirectory()

    func spool(messages count: Int) throws -> Spool {
        let spool = try directory.spool()
        let batch = StagingBatch()
        for index in 1...count {
            let text =
                "From: t@example.org\nTo: s\(index)@example.org\nSubject: \(index)\nX-Postroom-Envelope-To: s\(index)%40example.org\n\nbody \(index)\n"
            try batch.stage(
                Array(text.utf8), as: MessageName(base: "1795000000.M\(index)P1Q\(index).test"),
                in: spool.maildir(.outgoing))
        }
        try batch.commit()
        return spool
    }

    func recipients(_ server: SMTPTestServer) throws -> [String] {
        try server.messages().compactMap { text in
            text.split(separator: "\r\n").first { $0.hasPrefix("To: ") }.map { String($0.dropFirst(4)) }
        }
    }

    @Test func twoDeliverProcessesSendEachOfTwoThousandMessagesOnce() throws {
        let server = try SMTPTestServer(.accept)
        let spool = try spool(messages: 2_000)
        let arguments = ["--spool", spool.root, "--smtp", server.url, "--tls", "off"]
        let first = try Run.start("deliver", arguments)
        let second = try Run.start("deliver", arguments)
        first.0.waitUntilExit()
        second.0.waitUntilExit()
        #expect(first.0.terminationStatus == 0 && second.0.terminationStatus == 0)
        let received = try recipients(server)
        #expect(received.count == 2_000)
        #expect(Set(received).count == 2_000)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)).count == 2_000)
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
    }

    @Test func severalConnectionsShareTheQueue() throws {
        let server = try SMTPTestServer(.accept)
        let spool = try spool(messages: 400)
        let result = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off", "--connections", "4"])
        #expect(result.stdout == "sent 400, deferred 0, failed 0\n")
        #expect(server.connections == 4)
        let received = try recipients(server)
        #expect(received.count == 400 && Set(received).count == 400)
    }

    @Test(arguments: [0.3, 1.0])
    func killingDeliverMidPassLosesNothing(_ delay: Double) throws {
        let server = try SMTPTestServer(.accept)
        let spool = try spool(messages: 1_000)
        let arguments = ["--spool", spool.root, "--smtp", server.url, "--tls", "off"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Run.binary("deliver"))
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        Run.kill9(process)
        let rerun = try Run.program("deliver", arguments)
        #expect(rerun.status == 0)
        let received = try recipients(server)
        // Every message arrived; at most the one in flight when killed arrived twice.
        #expect(Set(received).count == 1_000)
        #expect(received.count <= 1_001)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)).count == 1_000)
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
        #expect(Files.list(spool.maildir(.outgoing).path(of: .cur)).isEmpty)
    }
}
