import Foundation
import Postroom
import TestSupport
import Testing

@Suite struct RendererTests {
    static let name = MessageName(base: "1795336174.M5P42Q7.host.R3")

    func renderer(_ configure: (inout Renderer) -> Void = { _ in }) -> Renderer {
        var renderer = Renderer(sendingDomains: SendingDomains("example.org, *.school.example"))
        renderer.now = { Timestamp(seconds: 1_795_336_174) }
        configure(&renderer)
        return renderer
    }

    func input(
        _ name: String = "Ada Lovelace", record: String = #"{"first_name":"Ada","last_name":"Lovelace"}"#,
        bulk: Bool = true, attachments: [Message] = []
    ) throws -> RenderInput {
        RenderInput(
            name: Self.name, envelopeTo: "ada@example.org", toName: name,
            recipient: try JSONValue.parse(Array(record.utf8), location: "t"),
            variables: [("program.niceName", "Splash 2026")],
            attachments: attachments, isBulk: bulk, request: "1795336174.M5P42Q7.host")
    }

    func template(_ text: String) throws -> MessageTemplate { try MessageTemplate(Array(text.utf8), source: "t") }

    func text(_ message: Message) -> String { String(decoding: message.bytes, as: UTF8.self) }

    @Test func nonASCIIDisplayNamesInAddressFieldsBecomeEncodedWords() throws {
        let t = try template(
            """
            From: Équipe Splash <team@example.org>
            Reply-To: "Zoë Ünal" <help@example.org>, plain@example.org
            Sender: team@example.org

            Hello

            """)
        let message = try renderer().render(t, try input("Jürgen"))
        let header = message.fields.flatMap(\.raw)
        #expect(header.allSatisfy { $0 < 128 }, "\(text(message))")
        let from = try AddressParser.parseList(try #require(message.value(of: "From"))).flatMap(\.mailboxes)
        #expect(from.map(\.displayName) == ["Équipe Splash"])
        #expect(from.map(\.address) == ["team@example.org"])
        let replyTo = try AddressParser.parseList(try #require(message.value(of: "Reply-To"))).flatMap(\.mailboxes)
        #expect(replyTo.map(\.displayName) == ["Zoë Ünal", nil])
        // ASCII fields stay exactly as the template wrote them.
        #expect(text(message).contains("\nSender: team@example.org\n"))
    }

    @Test func plainTextMessageIsExact() throws {
        let t = try template(
            """
            From: Splash <team@example.org>
            Reply-To: help@example.org
            To: ignored@example.org
            Bcc: never@example.org
            Subject: Welcome {{ user.first_name }} to {{ program.niceName }}

            Dear {{ user.first_name }},
            see you at {{ program.niceName }}.

            """)
        let message = try renderer().render(t, try input())
        let date = MessageDate.format(1_795_336_174)
        #expect(
            text(message) == """
                Date: \(date)
                From: Splash <team@example.org>
                Reply-To: help@example.org
                To: "Ada Lovelace" <ada@example.org>
                Subject: Welcome Ada to Splash 2026
                Message-ID: <1795336174.M5P42Q7.host.R3@example.org>
                Precedence: bulk
                Auto-Submitted: auto-generated
                MIME-Version: 1.0
                Content-Type: text/plain; charset=us-ascii
                Content-Transfer-Encoding: 7bit
                X-Postroom-Envelope-To: ada@example.org
                X-Postroom-Request: 1795336174.M5P42Q7.host

                Dear Ada,
                see you at Splash 2026.

                """)
    }

    @Test func nonBulkMailHasNoBulkHeadersAndUTF8BodiesAreEncoded() throws {
        let t = try template(
            "From: team@example.org\nSubject: Für {{ user.first_name }}\n\nViele Grüße, {{ user.first_name }}, from all of us at Splash\n"
        )
        let message = try renderer().render(t, try input(bulk: false))
        #expect(!message.contains("Precedence") && !message.contains("Auto-Submitted"))
        #expect(message.value(of: "Subject") == "=?UTF-8?Q?F=C3=BCr?= Ada")
        #expect(message.value(of: "Content-Type") == "text/plain; charset=utf-8")
        #expect(message.value(of: "Content-Transfer-Encoding") == "quoted-printable")
        #expect(message.body == Array("Viele Gr=C3=BC=C3=9Fe, Ada, from all of us at Splash\n".utf8))
    }

    @Test func htmlBodyBecomesAlternativeWithGeneratedTextFirst() throws {
        let t = try template(
            """
            From: team@example.org
            Subject: Hi
            Content-Type: text/html; charset=utf-8

            <p>Dear {{ user.first_name }} &amp; family,</p><p><a href="https://example.org/x">Schedule</a></p>

            """)
        let message = try renderer().render(t, try input(record: #"{"first_name":"<Ada>"}"#))
        let entity = try MIMEEntity(try Message(parsing: message.bytes))
        #expect(entity.contentType.value == "multipart/alternative")
        #expect(entity.parts.map(\.contentType.value) == ["text/plain", "text/html"])
        #expect(entity.parts[0].text == "Dear <Ada> & family,\n\nSchedule <https://example.org/x>\n")
        #expect(
            entity.parts[1].text
                == "<p>Dear &lt;Ada&gt; &amp; family,</p><p><a href=\"https://example.org/x\">Schedule</a></p>\n")
    }

    @Test func alternativeTemplatesRenderBothParts() throws {
        let t = try template(
            """
            From: team@example.org
            Subject: Hi
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary=b

            --b
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            Hi {{ user.first_name }} =E2=80=94 plain
            --b
            Content-Type: text/html; charset=utf-8

            <b>Hi {{ user.first_name }}</b>
            --b--

            """)
        let entity = try MIMEEntity(try Message(parsing: try renderer().render(t, try input()).bytes))
        #expect(entity.parts.map(\.text) == ["Hi Ada — plain\n", "<b>Hi Ada</b>\n"])
    }

    @Test func attachmentsGoInMixedWithBase64Lines() throws {
        let pdf = try MIMEWriter.leaf(
            contentType: MediaType("application/pdf", parameters: [("name", "handbook.pdf")]),
            body: [UInt8](repeating: 0x25, count: 300),
            encoding: .base64, extraFields: [("Content-Disposition", "attachment; filename=handbook.pdf")])
        let t = try template("From: team@example.org\nSubject: Hi\n\nSee attached.\n")
        let message = try renderer().render(t, try input(attachments: [pdf]))
        let entity = try MIMEEntity(try Message(parsing: message.bytes))
        #expect(entity.contentType.value == "multipart/mixed")
        #expect(entity.parts.map(\.contentType.value) == ["text/plain", "application/pdf"])
        #expect(entity.parts[1].decodedBody == [UInt8](repeating: 0x25, count: 300))
        #expect(entity.parts[1].fileName == "handbook.pdf")
        for line in String(decoding: entity.parts[1].message.body, as: UTF8.self).split(separator: "\n") {
            #expect(line.count <= 76)
        }
    }

    @Test func lineBreaksInValuesNeverMakeHeaders() throws {
        let t = try template("From: team@example.org\nSubject: Hi {{ user.first_name }}\n\nx\n")
        let message = try renderer().render(
            t, try input("Evil\r\nBcc: victim@example.org", record: #"{"first_name":"A\r\nBcc: victim@example.org"}"#))
        let reparsed = try Message(parsing: message.bytes)
        #expect(!reparsed.contains("Bcc"))
        #expect(reparsed.value(of: "Subject") == "Hi A  Bcc: victim@example.org")
        #expect(reparsed.value(of: "To") == #""Evil  Bcc: victim@example.org" <ada@example.org>"#)
    }

    @Test func missingValuesFailNamingEachOneUnlessAllowed() throws {
        let t = try template(
            "From: team@example.org\nSubject: {{ program.date }}\n\n{{ user.nickname }} {{ user.first_name }}\n")
        #expect {
            _ = try renderer().render(t, try input())
        } throws: { error in
            (error as? PostroomError)?.description
                == "malformed job: the data has no value for {{ program.date }}, {{ user.nickname }} (add the column or --var, or render with --allow-missing)"
        }
        let message = try renderer { $0.allowsMissing = true }.render(t, try input())
        #expect(message.body == Array(" Ada\n".utf8))
    }

    @Test func fromOutsideTheSendingDomainsIsRefused() throws {
        let t = try template("From: Bob <bob@gmail.com>\nSubject: s\n\nx\n")
        #expect {
            _ = try renderer().render(t, try input())
        } throws: { error in
            (error as? PostroomError)?.description
                == "malformed From address: bob@gmail.com is not in a sending domain (example.org, *.school.example): receivers checking DMARC will reject it"
        }
        let sub = try template("From: x@north.school.example\nSubject: s\n\nx\n")
        _ = try renderer().render(sub, try input())
        #expect(throws: PostroomError.self) {
            _ = try renderer().render(try template("Subject: no from\n\nx\n"), try input())
        }
    }

    @Test func listUnsubscribeCarriesTheTokenAndOneClick() throws {
        let unsubscribe = try Unsubscribe(
            urlTemplate: "https://example.org/u?a={address}&t={token}", mailto: "unsubscribe@example.org",
            key: Array("k3y".utf8))
        let t = try template("From: team@example.org\nSubject: s\n\n{{ unsubscribe_url }}\n")
        let message = try renderer {
            $0.unsubscribe = unsubscribe
            $0.messageIDDomain = "mail.example.org"
        }.render(t, try input())
        let token = unsubscribe.token(for: "ada@example.org", issued: Timestamp(seconds: 1_795_336_174))
        #expect(
            message.value(of: "List-Unsubscribe")
                == "<https://example.org/u?a=ada%40example.org&t=\(token)>, <mailto:unsubscribe@example.org?subject=unsubscribe%20ada%40example.org%20\(token)>"
        )
        #expect(message.value(of: "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
        #expect(message.value(of: "Message-ID") == "<1795336174.M5P42Q7.host.R3@mail.example.org>")
        #expect(message.body == Array("https://example.org/u?a=ada%40example.org&t=\(token)\n".utf8))
    }
}

@Suite struct UnsubscribeTests {
    @Test func configurationMistakesAreCaught() throws {
        #expect(throws: PostroomError.self) {
            _ = try Unsubscribe(urlTemplate: "ftp://x/{token}", mailto: nil, key: [1])
        }
        #expect(throws: PostroomError.self) {
            _ = try Unsubscribe(urlTemplate: "https://x/no-token", mailto: nil, key: [1])
        }
        #expect(throws: PostroomError.self) {
            _ = try Unsubscribe(urlTemplate: nil, mailto: "not an address", key: [1])
        }
        #expect(throws: PostroomError.self) {
            _ = try Unsubscribe.configured(try Configuration(text: "unsubscribe_url = https://x/{token}"))
        }
    }

    @Test func aPlainHTTPUnsubscribeURLIsRefusedWith78() throws {
        let error = #expect(throws: PostroomError.self) {
            _ = try Unsubscribe(urlTemplate: "http://example.org/u?t={token}", mailto: nil, key: [1])
        }
        #expect(error?.exitStatus == .config)
        #expect(error?.description.contains("unsubscribe_url must be an https:// URL (RFC 8058") == true)
    }

    @Test func keyFilesReadableByOthersAreRefused() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("key")
        try Files.write(path, "secret\n")
        chmod(path, 0o644)
        #expect {
            _ = try SecretFile.read(path, purpose: "unsubscribe key")
        } throws: { error in
            guard let error = error as? PostroomError else { return false }
            return error.exitStatus == .config && error.description.contains("chmod 600")
        }
        chmod(path, 0o600)
        #expect(try SecretFile.read(path, purpose: "unsubscribe key") == Array("secret".utf8))
    }
}
