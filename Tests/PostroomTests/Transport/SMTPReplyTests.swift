import Testing

@testable import Postroom

@Suite struct SMTPReplyTests {
    @Test func capabilitiesComeFromTheEHLOReply() {
        let capabilities = SMTPCapabilities(ehloLines: [
            "mx.example.org", "PIPELINING", "SIZE 10240000", "8BITMIME", "smtputf8", "AUTH PLAIN",
        ])
        #expect(capabilities.pipelining && capabilities.eightBitMIME && capabilities.smtpUTF8 && capabilities.size)
        #expect(capabilities.sizeLimit == 10_240_000)
        let unlimited = SMTPCapabilities(ehloLines: ["mx", "SIZE"])
        #expect(unlimited.size && unlimited.sizeLimit == nil && !unlimited.pipelining)
    }

    @Test func aReplyTextJoinsItsLines() {
        let reply = SMTPReply(code: 550, lines: ["5.7.1 Message refused:", "see https://example.org/policy "])
        #expect(reply.text == "550 5.7.1 Message refused: see https://example.org/policy")
        #expect(!reply.isSuccess && !reply.isTemporary)
        #expect(SMTPReply(code: 421, lines: [""]).closesConnection)
    }

    func replies(_ chunks: [String]) throws -> [SMTPReply] {
        var reader = SMTPReplyReader()
        var found: [SMTPReply] = []
        for chunk in chunks {
            Array(chunk.utf8).withUnsafeBytes { reader.append($0) }
            while let reply = try reader.next() { found.append(reply) }
        }
        return found
    }

    @Test func repliesAreWholeHoweverTheBytesArrive() throws {
        let found = try replies([
            "250-mx.example.org\r\n250-PIPE", "LINING\r\n250 8BITMIME\r", "\n354 go on\r\n25", "0 2.1.0 Ok\n",
        ])
        #expect(
            found == [
                SMTPReply(code: 250, lines: ["mx.example.org", "PIPELINING", "8BITMIME"]),
                SMTPReply(code: 354, lines: ["go on"]),
                SMTPReply(code: 250, lines: ["2.1.0 Ok"]),
            ])
    }

    @Test func aLineThatIsNotAReplyIsAnError() {
        #expect(throws: SMTPReplyReader.Malformed.self) { try replies(["HTTP/1.1 400 Bad Request\r\n"]) }
        #expect(throws: SMTPReplyReader.Malformed.self) { try replies(["250-first\r\n550 other code\r\n"]) }
    }
}
