import Foundation
import Postroom
import TestSupport
import Testing

/// A message read from its spool file in pieces gives the same wire form as one in memory.
@Suite struct OutboundTests {
    let directory = TemporaryDirectory()

    @Test func theEncoderGivesTheSameBytesWhereverThePiecesAreCut() {
        let message = Array("A: b\r\n\n.dot\n..two\nmixed\r\nends without newline .".utf8)
        let whole = WireFormat.smtpData(message)
        for cut in 0...message.count {
            var encoder = WireFormat.SMTPDataEncoder()
            let pieces = encoder.encode(message[..<cut]) + encoder.encode(message[cut...], finishing: true)
            #expect(pieces == whole, "cut at \(cut)")
        }
    }

    @Test func aStoredMessageIsStreamedAsTheWholeWouldBe() throws {
        // Pieces are 64 KiB: put a CRLF and a dot line across the first boundary.
        let header = "From: a@example.org\nTo: b@example.org\nX-Postroom-Envelope-To: b@example.org\n\n"
        var body = Array(repeating: UInt8(ascii: "z"), count: 65_536 - header.utf8.count - 1)
        body += Array("\r\n.dot\nü\n".utf8) + Array(repeating: UInt8(ascii: "q"), count: 200_000)
        let bytes = Array(header.utf8) + body
        let path = directory.file("message")
        try Files.write(path, bytes)
        let stored = try #require(try StoredMessage.open(path, headerLimit: 1000))
        #expect(stored.bodyLength == body.count)
        var outboundHeader = stored.header
        outboundHeader.removeInternalFields()
        let envelope = try Envelope(sender: "a@example.org", recipients: ["b@example.org"])
        let streamed = try Outbound(header: outboundHeader, body: stored, envelope: envelope)
        var memory = try Message(parsing: bytes)
        memory.removeInternalFields()
        let inMemory = Outbound(data: memory.bytes, envelope: envelope)
        var wire: [UInt8] = []
        try streamed.forEachWireChunk({ (piece) throws(PostroomError) in wire += piece }, unreadable: { $0 })
        #expect(wire == WireFormat.smtpData(memory.bytes))
        #expect(streamed.wireSize == wire.count && inMemory.wireSize == wire.count)
        #expect(streamed.size == memory.bytes.count)
        #expect(streamed.hasEightBit && inMemory.hasEightBit)
        #expect(try streamed.contiguousBytes() == memory.bytes)
    }

    @Test func aLongHeaderIsNotReadPastItsLimitAndABareCRInTheBodyIsRefused() throws {
        let path = directory.file("message")
        try Files.write(path, "Subject: " + String(repeating: "long ", count: 20_000) + "\n\nbody\n")
        #expect(try StoredMessage.open(path, headerLimit: 1000) == nil)
        try Files.write(path, "Subject: s\n\nline one\nbare\rcr\n")
        let stored = try #require(try StoredMessage.open(path, headerLimit: 1000))
        #expect(throws: PostroomError.self) {
            try Outbound(
                header: stored.header, body: stored, envelope: try Envelope(sender: nil, recipients: ["b@x.org"]))
        }
    }
}
