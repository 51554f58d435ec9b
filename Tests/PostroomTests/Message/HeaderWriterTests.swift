import Postroom
import Testing

@Suite struct HeaderWriterTests {
    func lines(_ field: HeaderField) -> [String] {
        String(decoding: field.raw, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func shortFieldsStayOnOneLine() throws {
        let field = try HeaderWriter.field("Subject", "Welcome to Splash 2026")
        #expect(String(decoding: field.raw, as: UTF8.self) == "Subject: Welcome to Splash 2026\n")
    }

    @Test func longTextFoldsAtSpacesWithin78() throws {
        let words = (1...60).map { "word\($0)" }.joined(separator: " ")
        let field = try HeaderWriter.field("Subject", words)
        for line in lines(field) { #expect(line.utf8.count <= 78) }
        #expect(lines(field).dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(field.value == words)
    }

    @Test func a5000CharacterLineIsRefoldedUnder998() throws {
        // One unbreakable 5,000-character word in a message read from disk.
        let long = String(repeating: "x", count: 5_000)
        let original = try Message(parsing: Array("Subject: \(long)\n\nbody\n".utf8))
        var message = original
        try message.set("Subject", try #require(message.value(of: "Subject")))
        let reparsed = try Message(parsing: message.bytes)
        for line in String(decoding: message.bytes, as: UTF8.self).split(separator: "\n") {
            #expect(line.utf8.count <= 998)
        }
        #expect(reparsed.decodedValue(of: "Subject") == long)
    }

    @Test func a5000CharacterLineOfWordsFoldsWithoutEncoding() throws {
        let text = (0..<1_000).map { _ in "abcd" }.joined(separator: " ")
        #expect(text.utf8.count > 4_900)
        let field = try HeaderWriter.field("References", text)
        for line in lines(field) { #expect(line.utf8.count <= 78) }
        #expect(!String(decoding: field.raw, as: UTF8.self).contains("=?"))
        #expect(field.value == text)
    }

    @Test func structuredWordTooLongToFoldIsAnError() {
        let long = "<" + String(repeating: "a", count: 1_200) + "@example.org>"
        #expect(throws: PostroomError.self) { try HeaderWriter.field("Message-ID", long) }
    }

    @Test func controlFieldsFoldAnywhereAndRoundTrip() throws {
        var message = Message()
        let value = String(repeating: "data with spaces, % signs, ünïcode and\nnewlines ", count: 40)
        message.setControl(.variable, value)
        for line in String(decoding: message.bytes, as: UTF8.self).split(separator: "\n") {
            #expect(line.utf8.count <= 78)
        }
        let reparsed = try Message(parsing: message.bytes)
        #expect(reparsed.control(.variable) == value)
    }

    @Test func nonASCIIInUnstructuredFieldsBecomesEncodedWords() throws {
        let field = try HeaderWriter.field("Subject", "Café au lait")
        #expect(String(decoding: field.raw, as: UTF8.self) == "Subject: =?UTF-8?B?Q2Fmw6k=?= au lait\n")
        #expect(field.decodedValue == "Café au lait")
        let mixed = try HeaderWriter.field("Subject", "Welcome Zoë and Ana")
        #expect(String(decoding: mixed.raw, as: UTF8.self) == "Subject: Welcome =?UTF-8?Q?Zo=C3=AB?= and Ana\n")
    }

    @Test func textThatLooksLikeAnEncodedWordIsProtected() throws {
        let field = try HeaderWriter.field("Subject", "literal =?UTF-8?Q?x?= text")
        #expect(field.decodedValue == "literal =?UTF-8?Q?x?= text")
    }

    @Test func xFieldsAreUnstructuredButStructuredFieldsAreNotEncoded() {
        #expect(HeaderWriter.style(for: "X-Mailer") == .unstructured)
        #expect(HeaderWriter.style(for: "x-postroom-var") == .control)
        #expect(HeaderWriter.style(for: "To") == .structured)
        #expect(HeaderWriter.style(for: "subject") == .unstructured)
    }
}
