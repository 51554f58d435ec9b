import Foundation
import Postroom
import TestSupport
import Testing

/// message_size_limit and header_size_limit where messages enter the spool (submit, expand,
/// render) and where they leave it (deliver).
@Suite struct SizeLimitTests {
    let directory = TemporaryDirectory()

    /// A template with about `bodyBytes` of body in 100-byte lines.
    static func template(bodyBytes: Int, subject: String = "Hello") -> [UInt8] {
        let line = String(repeating: "x", count: 99) + "\n"
        let text =
            "From: Splash Team <team@example.org>\nSubject: \(subject)\n\nDear {{ email }},\n"
            + String(repeating: line, count: bodyBytes / 100)
        return Array(text.utf8)
    }

    /// A finished message for deliver with about `bodyBytes` of body.
    static func message(bodyBytes: Int, subject: String = "Hello") -> [UInt8] {
        let line = String(repeating: "y", count: 99) + "\n"
        let text =
            "From: team@example.org\nTo: a@example.org\nSubject: \(subject)\nX-Postroom-Envelope-To: a@example.org\n\n"
            + ".a line starting with a dot\n" + String(repeating: line, count: bodyBytes / 100) + "end"
        return Array(text.utf8)
    }

    func setUp() throws -> Spool {
        let spool = try directory.spool()
        try Files.write(directory.file("list.csv"), "email\na@example.org\n")
        return spool
    }

    func configuration(_ text: String) throws -> String {
        let path = directory.file("postroom-\(text.hashValue).conf")
        try Files.write(path, text)
        return path
    }

    func submit(_ spool: Spool, _ template: [UInt8], _ extra: [String] = []) throws -> ProcessResult {
        try Run.program(
            "postroom", ["submit", "--spool", spool.root, "--recipients", directory.file("list.csv")] + extra,
            input: template)
    }

    @Test func submitRefusesATemplateOverTheDefaultMessageSizeLimit() throws {
        let spool = try setUp()
        let result = try submit(spool, Self.template(bodyBytes: 10_300_000))
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("exceeds message_size_limit 10240000"), "\(result.stderr)")
        #expect(Files.list(spool.maildir(.request).path(of: .new)).isEmpty)
    }

    @Test func submitCountsAttachmentsAsBase64AndRefusesALargeHeader() throws {
        let spool = try setUp()
        let config = try configuration("message_size_limit = 20000\nheader_size_limit = 1000\n")
        try Files.write(directory.file("a.bin"), [UInt8](repeating: 7, count: 16_000))
        let attached = try submit(
            spool, Self.template(bodyBytes: 1000), ["--config", config, "--attach", directory.file("a.bin")])
        #expect(attached.status == 65)
        #expect(attached.stderr.contains("exceeds message_size_limit 20000"), "\(attached.stderr)")
        let longSubject = String(repeating: "word ", count: 300)
        let header = try submit(spool, Self.template(bodyBytes: 1000, subject: longSubject), ["--config", config])
        #expect(header.status == 65)
        #expect(header.stderr.contains("exceeds header_size_limit 1000"), "\(header.stderr)")
        #expect(Files.list(spool.maildir(.request).path(of: .new)).isEmpty)
        let fits = try submit(spool, Self.template(bodyBytes: 1000), ["--config", config])
        #expect(fits.status == 0, "\(fits.stderr)")
        let bad = try configuration("message_size_limit = 10M\n")
        let badValue = try submit(spool, Self.template(bodyBytes: 1000), ["--config", bad])
        #expect(badValue.status == 78)
        #expect(badValue.stderr.contains("message_size_limit must be a number of bytes"), "\(badValue.stderr)")
    }

    @Test func expandFailsARequestOverTheLimitAndRenderAJobWhoseMessageIsOver() throws {
        let spool = try setUp()
        #expect(try submit(spool, Self.template(bodyBytes: 5000)).status == 0)
        let small = try configuration("message_size_limit = 2000\n")
        // A request written into request/ by other means meets the limit at expand.
        let expand = try Run.program("expand", ["--spool", spool.root, "--config", small])
        // A request moved to failed/ makes expand exit 65 once the rest is done (postroom-expand(8)).
        #expect(expand.status == 65, "\(expand.stderr)")
        let failed = try #require(Files.list(spool.maildir(.failed).path(of: .cur)).first)
        let reason = try Message(parsing: try Files.read(spool.maildir(.failed).path(of: .cur) + "/" + failed))
            .control(.failure)
        #expect(reason?.contains("exceeds message_size_limit 2000") == true, "\(reason ?? "")")
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).isEmpty)

        // Under the limit at expand, over it once rendered (the template grew a little).
        #expect(try submit(spool, Self.template(bodyBytes: 1800)).status == 0)
        #expect(try Run.program("expand", ["--spool", spool.root, "--config", small]).status == 0)
        #expect(Files.list(spool.maildir(.expanded).path(of: .new)).count == 1)
        let render = try Run.program("render", ["--queue", "--spool", spool.root, "--config", small])
        #expect(render.status == 0, "\(render.stderr)")
        #expect(render.stdout == "rendered 0, 1 failed (see failed/)\n")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
        #expect(try Files.text(spool.logPath).contains("exceeds message_size_limit 2000"))
    }

    @Test func deliverFailsAMessageOverTheDefaultLimitWithoutSendingIt() throws {
        let server = try SMTPTestServer(.accept)
        let spool = try setUp()
        let name = MessageName(base: "\(Timestamp.now().seconds).M1P1Q1.test")
        try spool.maildir(.outgoing).add(Self.message(bodyBytes: 10_300_000), as: name)
        let result = try Run.program("deliver", ["--spool", spool.root, "--smtp", server.url, "--tls", "off"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "sent 0, deferred 0, failed 1\n")
        #expect(try server.messages().isEmpty)
        let failed = spool.maildir(.failed).path(of: .cur) + "/" + name.withInfo().fileName
        let reason = try Message(parsing: try Files.read(failed)).control(.failure) ?? ""
        #expect(reason.hasPrefix("552 5.3.4 message size "), "\(reason)")
        #expect(reason.contains("exceeds message_size_limit 10240000"), "\(reason)")
        let badFlag = try Run.program(
            "deliver", ["--spool", spool.root, "--smtp", server.url, "--message-size-limit", "10M"])
        #expect(badFlag.status == 64)
        #expect(badFlag.stderr.contains("--message-size-limit must be a number of bytes"), "\(badFlag.stderr)")
    }

    @Test func deliverFailsALargeHeaderAndSendsALargeMessageWholeWhenTheLimitIsRaised() throws {
        let server = try SMTPTestServer(.accept)
        let spool = try setUp()
        let config = try configuration("header_size_limit = 1000\n")
        let header = MessageName(base: "\(Timestamp.now().seconds).M1P1Q1.test")
        try spool.maildir(.outgoing).add(
            Self.message(bodyBytes: 100, subject: String(repeating: "word ", count: 300)), as: header)
        let large = MessageName(base: "\(Timestamp.now().seconds).M2P1Q2.test")
        let content = Self.message(bodyBytes: 12_000_000)
        try spool.maildir(.outgoing).add(content, as: large)
        let result = try Run.program(
            "deliver",
            [
                "--spool", spool.root, "--config", config, "--smtp", server.url, "--tls", "off",
                "--message-size-limit", "20000000",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "sent 1, deferred 0, failed 1\n")
        let failed = spool.maildir(.failed).path(of: .cur) + "/" + header.withInfo().fileName
        let reason = try Message(parsing: try Files.read(failed)).control(.failure) ?? ""
        #expect(reason.hasPrefix("552 5.3.4 header size "), "\(reason)")
        // What the server got is the message as stored, without control fields, with CRLF.
        var outbound = try Message(parsing: content)
        outbound.removeInternalFields()
        let text = String(decoding: outbound.bytes, as: UTF8.self)
        let expected = Array((text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n").utf8)
        let received = try Files.read(server.directory + "/1.eml")
        #expect(received.count == expected.count)
        #expect(received == expected, "the message arrived changed")
        // SIZE counts the wire form: one dot stuffed, and the final dot line.
        #expect(try server.envelope(1).options.contains("SIZE=\(expected.count + 4)"))
    }
}
