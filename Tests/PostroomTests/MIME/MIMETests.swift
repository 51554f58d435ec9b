import Postroom
import Testing

@Suite struct QuotedPrintableTests {
    func encode(_ text: String) -> String { String(decoding: QuotedPrintable.encode(Array(text.utf8)), as: UTF8.self) }

    @Test func encodesWhatMustBeEncodedAndNothingElse() {
        #expect(encode("plain text = 1\n") == "plain text =3D 1\n")
        #expect(encode("café\n") == "caf=C3=A9\n")
        #expect(encode("trailing space \nand tab\t\n") == "trailing space=20\nand tab=09\n")
        #expect(encode("From here\n.dot\nFrom\n") == "=46rom here\n=2Edot\nFrom\n")
        #expect(encode("crlf\r\nline") == "crlf\nline")
    }

    @Test func softBreaksKeepLinesWithin76() {
        let long = String(repeating: "é", count: 100) + String(repeating: "a", count: 200) + "\n"
        let encoded = encode(long)
        for line in encoded.split(separator: "\n") { #expect(line.utf8.count <= 76) }
        #expect(QuotedPrintable.decode(Array(encoded.utf8)) == Array(long.utf8))
    }

    @Test func roundTripsRandomText() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("ab =.\t\nF".utf8) + [0xC3, 0xA9, 0x00, 0xFF]
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in
                alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]
            }
            let encoded = QuotedPrintable.encode(bytes)
            #expect(encoded.allSatisfy { $0 < 128 && $0 != 0 })
            #expect(QuotedPrintable.decode(encoded) == bytes)
        }
    }

    @Test func decodesSoftBreaksWithCRLFAndTrailingSpace() {
        #expect(QuotedPrintable.decode(Array("a=  \r\nb=3D=\nc".utf8)) == Array("ab=c".utf8))
    }

    @Test func textEncodingChoice() {
        #expect(TransferEncoding.forText(Array("ascii only\n".utf8)) == .sevenBit)
        #expect(TransferEncoding.forText(Array("mostly ascii, one é\n".utf8)) == .quotedPrintable)
        #expect(TransferEncoding.forText(Array("学生の皆さん、ようこそ\n".utf8)) == .base64)
        #expect(TransferEncoding.forText(Array((String(repeating: "x", count: 1000) + "\n").utf8)) == .quotedPrintable)
    }

    @Test func base64BodiesHave76CharacterLines() {
        let encoded = Base64.encodedBytes([UInt8](repeating: 7, count: 1000), lineLength: 76, lineEnding: [10])
        let lines = String(decoding: encoded, as: UTF8.self).split(separator: "\n")
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect(Base64.decode(encoded) == [UInt8](repeating: 7, count: 1000))
    }
}

@Suite struct MediaTypeTests {
    @Test func parsesParametersQuotedAndEncoded() {
        let type = MediaType(parsing: #"Multipart/Mixed; boundary="a;b \"c\""; charset=UTF-8"#)
        #expect(type.value == "multipart/mixed")
        #expect(type[parameter: "BOUNDARY"] == #"a;b "c""#)
        #expect(type[parameter: "charset"] == "UTF-8")
        let disposition = MediaType(parsing: "attachment; filename*0*=utf-8''%C3%A9t%C3%A9; filename*1=.pdf")
        #expect(disposition[parameter: "filename"] == "été.pdf")
    }

    @Test func formatsWithQuotingAndRFC2231() {
        #expect(MediaType("text/plain", parameters: [("charset", "utf-8")]).description == "text/plain; charset=utf-8")
        #expect(
            MediaType("attachment", parameters: [("filename", "my file.pdf")]).description
                == #"attachment; filename="my file.pdf""#)
        let encoded = MediaType("attachment", parameters: [("filename", "été 1.pdf")])
        #expect(encoded.description == "attachment; filename*=utf-8''%C3%A9t%C3%A9%201.pdf")
        #expect(MediaType(parsing: encoded.description)[parameter: "filename"] == "été 1.pdf")
    }
}

@Suite struct MIMEEntityTests {
    @Test func splitsNestedMultipartsAndDecodesParts() throws {
        let raw = """
            Content-Type: multipart/mixed; boundary=outer

            preamble
            --outer
            Content-Type: multipart/alternative; boundary="inner"

            --inner
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            caf=C3=A9
            --inner
            Content-Type: text/html

            <p>hi</p>
            --inner--
            --outer
            Content-Type: application/pdf; name=a.pdf
            Content-Transfer-Encoding: base64

            JVBERi0=
            --outer--
            epilogue

            """
        let entity = try MIMEEntity(try Message(parsing: Array(raw.utf8)))
        #expect(entity.parts.count == 2)
        #expect(entity.leaves.map(\.contentType.value) == ["text/plain", "text/html", "application/pdf"])
        #expect(entity.leaves[0].text == "café")
        #expect(entity.leaves[1].text == "<p>hi</p>")
        #expect(entity.leaves[2].decodedBody == Array("%PDF-".utf8))
        #expect(entity.leaves[2].isAttachment && !entity.leaves[0].isAttachment)
        #expect(entity.leaves[2].fileName == "a.pdf")
    }

    @Test func writtenMultipartsParseBackExactlyAndAvoidBoundariesInContent() throws {
        let tricky = try MIMEWriter.text("--=_pr_seed\nlooks like a boundary\n", subtype: "plain")
        let other = try MIMEWriter.text("second\n", subtype: "html")
        let message = try MIMEWriter.multipart("alternative", parts: [tricky, other], boundarySeed: "seed")
        let entity = try MIMEEntity(try Message(parsing: message.bytes))
        #expect(entity.contentType[parameter: "boundary"] != "=_pr_seed")
        #expect(entity.parts.map(\.text) == ["--=_pr_seed\nlooks like a boundary\n", "second\n"])
    }

    @Test func missingBoundaryIsAClearError() {
        #expect(throws: PostroomError.self) {
            _ = try MIMEEntity(try Message(parsing: Array("Content-Type: multipart/mixed\n\nx\n".utf8)))
        }
    }
}

@Suite struct MediaTypeDetectorTests {
    @Test func libmagicRecognisesCommonFiles() {
        let detector = MediaTypeDetector.shared
        #expect(detector.mediaType(of: Array("%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n".utf8)) == "application/pdf")
        #expect(
            detector.mediaType(of: [
                0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
            ]) == "image/png")
        #expect(detector.mediaType(of: Array("just some words\n".utf8)) == "text/plain")
    }
}

@Suite struct HTMLTextTests {
    @Test func convertsMailHTMLToReadableText() {
        let html = """
            <html><head><title>x</title><style>p{color:red}</style></head><body>
            <h1>Welcome,&nbsp;Ada</h1><p>Your  class:<br>Robotics &amp; AI</p>
            <ul><li>Bring a laptop</li><li>Arrive at 9</li></ul>
            <p><a href="https://example.org/s?a=1&amp;b=2">Schedule</a> &#8211; &lt;ok&gt;</p><!-- hidden -->
            <script>alert(1)</script></body></html>
            """
        #expect(
            HTMLText.plainText(from: html) == """
                Welcome, Ada

                Your class:
                Robotics & AI

                - Bring a laptop
                - Arrive at 9

                Schedule <https://example.org/s?a=1&b=2> – <ok>

                """)
    }
}
