import Postroom
import Testing

@Suite struct MessageParserTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test(arguments: [
        "From: a@example.org\nSubject: hi\n\nbody\n",
        "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n",
        "Subject: folded\n  across\n\tthree lines\nTo: b@example.org\n\nx",
        "Received: one\nReceived: two\nreceived: three\n\n",
        "Subject: no body at all\n",
        "Subject: empty body\n\n",
        "From something@x Sat Jan  3 01:05:34 1996\nSubject: mbox\n\nbody\n",
        "Subject : obsolete space before colon\n\nx\n",
        "Subject: trailing spaces   \n\nbody without final newline",
    ])
    func unEditedMessagesRoundTripByteForByte(_ text: String) throws {
        let message = try Message(parsing: bytes(text))
        #expect(message.bytes == bytes(text))
    }

    @Test func eightBitBytesArePreserved() throws {
        let raw: [UInt8] =
            Array("Subject: caf".utf8) + [0xE9] + Array("\nX-Name: ".utf8) + [0xC3, 0xA9] + Array("\n\n".utf8) + [
                0xFF, 0x80, 10,
            ]
        let message = try Message(parsing: raw)
        #expect(message.bytes == raw)
        #expect(message.value(of: "subject") == "café")  // Latin-1 fallback
        #expect(message.value(of: "X-Name") == "é")
        #expect(message.body == [0xFF, 0x80, 10])
    }

    @Test func foldedAndRepeatedFieldsAreRead() throws {
        let message = try Message(parsing: bytes("Subject: one\n two\r\n\tthree\nReceived: a\nRECEIVED: b\n\nbody\n"))
        #expect(message.value(of: "SUBJECT") == "one two\tthree")
        #expect(message.values(of: "received") == ["a", "b"])
        #expect(message.body == bytes("body\n"))
        #expect(message.lineEnding == .lf)
    }

    @Test func crlfMessagesKeepCrlfForNewFields() throws {
        var message = try Message(parsing: bytes("Subject: x\r\n\r\nbody\r\n"))
        #expect(message.lineEnding == .crlf)
        try message.append("X-Test", "yes")
        #expect(message.bytes == bytes("Subject: x\r\nX-Test: yes\r\n\r\nbody\r\n"))
    }

    @Test func mboxFromLineIsKeptApart() throws {
        let message = try Message(parsing: bytes("From a@b Mon Jan 1 00:00:00 2024\nSubject: s\n\nb\n"))
        #expect(message.envelopeLine == bytes("From a@b Mon Jan 1 00:00:00 2024\n"))
        #expect(message.fields.map(\.name) == ["Subject"])
    }

    func malformedReason(_ input: [UInt8]) -> String? {
        do {
            _ = try Message(parsing: input, source: "job.eml")
            return nil
        } catch {
            #expect(error.exitStatus == .dataError)
            return error.description
        }
    }

    @Test func bareCarriageReturnIsRefusedWithItsLine() {
        let reason = malformedReason(bytes("Subject: a\nX: b\rc\n\nbody\n"))
        #expect(
            reason
                == "malformed message at job.eml line 2: contains a CR not followed by LF; use LF or CRLF line endings only"
        )
        #expect(malformedReason(bytes("Subject: a\n\nbody\r")) != nil)
    }

    @Test func nulIsRefusedWithItsLine() {
        let reason = malformedReason(bytes("Subject: a\n\nline\nnul\0here\n"))
        #expect(
            reason
                == "malformed message at job.eml line 4: contains a NUL byte; mail must be text, encode binary data as base64"
        )
    }

    @Test func missingSeparatorIsRefused() {
        let reason = malformedReason(bytes("Subject: a\nThis is body text\n"))
        #expect(
            reason
                == "malformed message at job.eml line 2: \"This is body text\" is not a header field (Name: value); the header must end with an empty line before the body"
        )
    }

    @Test func otherMalformedInputs() {
        #expect(
            malformedReason([])
                == "malformed message at job.eml: the input is empty; expected header fields, a blank line and a body")
        #expect(malformedReason(bytes(" continued\nSubject: x\n\n"))?.contains("continuation line") == true)
        #expect(malformedReason(bytes("\nbody only\n"))?.contains("no header fields") == true)
        #expect(malformedReason(bytes(": no name\n\n"))?.contains("is not a header field") == true)
    }

    @Test func parsingNeverCrashesOnArbitraryBytes() {
        // A cheap fuzz: every prefix of a tricky message and random bytes either parse or throw.
        let tricky = bytes("From x\nSubject: =?UTF-8?B?4pyT?=\n folded\nTo: \"a\\\"b\" <a@b>\n\nbody\r\n.\n")
        for length in 0...tricky.count { _ = try? Message(parsing: Array(tricky.prefix(length))) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let alphabet: [UInt8] = [UInt8(ascii: "a"), UInt8(ascii: ":"), 10, 13, 32, 9, 0, 0xC3, UInt8(ascii: "=")]
            let random: [UInt8] = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in
                alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
            }
            if let message = try? Message(parsing: random) { #expect(message.bytes == random) }
        }
    }
}

@Suite struct MessageEditingTests {
    let base = "From: a@example.org\nsubject: first\nTo: b@example.org\nSUBJECT: second\n\nbody\n"

    @Test func setReplacesAllCaseInsensitivelyAtTheFirstPlace() throws {
        var message = try Message(parsing: Array(base.utf8))
        try message.set("Subject", "new")
        #expect(
            String(decoding: message.bytes, as: UTF8.self)
                == "From: a@example.org\nSubject: new\nTo: b@example.org\n\nbody\n")
    }

    @Test func removeDropsEveryFieldOfTheName() throws {
        var message = try Message(parsing: Array(base.utf8))
        #expect(message.remove("SUBJECT") == 2)
        #expect(String(decoding: message.bytes, as: UTF8.self) == "From: a@example.org\nTo: b@example.org\n\nbody\n")
    }

    @Test func appendAndPrepend() throws {
        var message = try Message(parsing: Array("Subject: s\n\nb".utf8))
        try message.append("X-One", "1")
        try message.prepend("Return-Path", "<a@example.org>")
        #expect(
            String(decoding: message.bytes, as: UTF8.self) == "Return-Path: <a@example.org>\nSubject: s\nX-One: 1\n\nb")
    }

    @Test func settingAFieldOnAMessageWithoutBodyKeepsItBodyless() throws {
        var message = try Message(parsing: Array("Subject: s\n".utf8))
        try message.set("To", "a@example.org")
        #expect(String(decoding: message.bytes, as: UTF8.self) == "Subject: s\nTo: a@example.org\n")
    }

    @Test func lineBreaksInValuesNeverStartAField() throws {
        var message = try Message(parsing: Array("Subject: s\n\nbody\n".utf8))
        try message.set("Subject", "hello\r\nBcc: victim@example.org\nX-Evil: 1")
        try message.set("To", "a@example.org\nBcc: other@example.org")
        let reparsed = try Message(parsing: message.bytes)
        #expect(reparsed.fields.map(\.name) == ["Subject", "To"])
        #expect(!reparsed.contains("Bcc"))
        #expect(reparsed.value(of: "Subject") == "hello  Bcc: victim@example.org X-Evil: 1")
    }

    @Test func invalidFieldNamesAreRefused() throws {
        var message = Message()
        #expect(throws: PostroomError.self) { try message.append("Bad Name", "x") }
        #expect(throws: PostroomError.self) { try message.append("Bad:Name", "x") }
        #expect(throws: PostroomError.self) { try message.append("", "x") }
    }
}
