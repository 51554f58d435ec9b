import PostroomCore
import Testing

@Suite struct DKIMCanonicalizationTests {
    private func fields(_ text: String) throws -> [HeaderField] {
        try Message(parsing: Array(text.utf8)).fields
    }

    private func body(_ text: String, _ mode: DKIMCanonicalization, pieceSize: Int = .max) -> String {
        var canonicalizer = DKIMBodyCanonicalizer(mode)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + pieceSize)
            out += canonicalizer.update(bytes[start..<end])
            start = end
        }
        out += canonicalizer.finish()
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 6376 3.4.5, the header half.
    @Test func headerExampleOfRFC6376() throws {
        let example = try fields("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n")
        #expect(
            example.map { String(decoding: DKIMCanonicalization.relaxed.header($0), as: UTF8.self) } == [
                "a:X\r\n", "b:Y Z\r\n",
            ])
        #expect(
            example.map { String(decoding: DKIMCanonicalization.simple.header($0), as: UTF8.self) } == [
                "A: X\r\n", "B : Y\t\r\n\tZ  \r\n",
            ])
    }

    /// The spool's LF form canonicalises as the wire's CRLF form does.
    @Test func lfHeadersCanonicaliseAsCRLF() throws {
        let lf = try fields("Subject:  Hello\n \tworld \n\n")
        let crlf = try fields("Subject:  Hello\r\n \tworld \r\n\r\n")
        for mode in DKIMCanonicalization.allCases {
            #expect(mode.header(lf[0]) == mode.header(crlf[0]))
        }
        #expect(
            String(decoding: DKIMCanonicalization.relaxed.header(lf[0]), as: UTF8.self) == "subject:Hello world\r\n")
    }

    /// RFC 6376 3.4.5, the body half, whole and a byte at a time.
    @Test(arguments: [1, 2, 3, .max])
    func bodyExampleOfRFC6376(pieceSize: Int) {
        let example = " C \r\nD \t E\r\n\r\n\r\n"
        #expect(body(example, .relaxed, pieceSize: pieceSize) == " C\r\nD E\r\n")
        #expect(body(example, .simple, pieceSize: pieceSize) == " C \r\nD \t E\r\n")
        let lf = " C \nD \t E\n\n\n"
        #expect(body(lf, .relaxed, pieceSize: pieceSize) == " C\r\nD E\r\n")
        #expect(body(lf, .simple, pieceSize: pieceSize) == " C \r\nD \t E\r\n")
    }

    /// 3.4.3 and 3.4.4: the empty body, a missing last line ending, empty lines inside, whitespace-only lines.
    @Test func bodyEdges() {
        #expect(body("", .simple) == "\r\n")
        #expect(body("", .relaxed) == "")
        #expect(body("\n\n", .simple) == "\r\n")
        #expect(body(" \n\t\n", .relaxed) == "")
        #expect(body(" \n\t\n", .simple) == " \r\n\t\r\n")
        #expect(body("a", .simple) == "a\r\n")
        #expect(body("a  ", .relaxed) == "a\r\n")
        #expect(body("a\n\n\nb\n\n", .relaxed) == "a\r\n\r\n\r\nb\r\n")
        #expect(body("a\n  \nb\n", .relaxed) == "a\r\n\r\nb\r\n")
        #expect(body("\u{e9}l\u{e0}n \n", .relaxed) == "\u{e9}l\u{e0}n\r\n")
    }

    @Test func tagListsParseAndRefuse() throws {
        let list = try #require(DKIMTagList(parsing: " v=1; a = rsa-sha256 ;\r\n\tb=ab\r\n\t cd;"))
        #expect(list["v"] == "1")
        #expect(list["a"] == "rsa-sha256")
        #expect(DKIMTagList.withoutWhitespace(list["b"] ?? "") == "abcd")
        #expect(DKIMTagList(parsing: "v=1; v=2") == nil)
        #expect(DKIMTagList(parsing: "v=1; novalue") == nil)
        #expect(DKIMTagList(parsing: "1v=1") == nil)
        #expect(DKIMTagList(parsing: "v=1; a=x")?.text == "v=1; a=x")
    }

    /// 5.4.2: instances are taken from the bottom up; names with none left pick nothing.
    @Test func selectionIsBottomUpAndOversigns() throws {
        let header = try fields("Received: 1\nSubject: first\nFrom: a@example.org\nSubject: second\n\n")
        let names = DKIMHeaderSelection.oversigned(["From", "Subject", "To"], in: header)
        #expect(names == ["From", "From", "Subject", "Subject", "Subject", "To"])
        #expect(DKIMHeaderSelection.select(names, from: header).map(\.value) == ["a@example.org", "second", "first"])
        #expect(DKIMHeaderSelection.select(["subject"], from: header).map(\.value) == ["second"])
    }

    /// The field folds to the width, puts b= on a line of its own, and reads back as it was written.
    @Test func signatureFieldFoldsAndReadsBack() throws {
        let header = try fields("From: a@example.org\nSubject: hi\n\n")
        let template = DKIMSignatureField(
            algorithm: .ed25519SHA256, domain: "example.org", selector: "s1", canonicalization: (.relaxed, .simple),
            signedNames: DKIMHeaderSelection.oversigned(DKIMHeaderSelection.signedFieldNames, in: header),
            bodyHash: Array(repeating: 7, count: 32), timestamp: 1_700_000_000)
        let signed = template.field(signature: Array(repeating: 9, count: 256))
        let lines = String(decoding: signed.raw, as: UTF8.self).split(separator: "\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        #expect(lines.contains { $0.hasPrefix("\tb=") })
        let read = try #require(DKIMSignedData(signed))
        #expect(read.signedNames == template.signedNames)
        #expect(read.canonicalization == (.relaxed, .simple))
        #expect(read.unsignedField.raw == template.field(signature: []).raw)
        #expect(read.signingInput(fields: header) == template.signingInput(fields: header))
    }
}
