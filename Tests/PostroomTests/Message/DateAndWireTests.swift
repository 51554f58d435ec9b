import Postroom
import Testing

@Suite struct MessageDateTests {
    @Test func formatsRFC5322Dates() {
        #expect(MessageDate.format(1_700_000_000, utc: true) == "Tue, 14 Nov 2023 22:13:20 +0000")
        #expect(MessageDate.format(0, utc: true) == "Thu, 1 Jan 1970 00:00:00 +0000")
        let local = MessageDate.format(1_700_000_000)
        #expect(
            local.range(
                of: #"^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"#,
                options: .regularExpression) != nil)
        #expect(MessageDate.parse(local) == 1_700_000_000)
    }

    @Test func parsesCommonDateForms() {
        #expect(MessageDate.parse("Tue, 14 Nov 2023 22:13:20 +0000") == 1_700_000_000)
        #expect(MessageDate.parse("14 Nov 2023 23:13:20 +0100") == 1_700_000_000)
        #expect(MessageDate.parse("Tue, 14 Nov 2023 17:13:20 EST") == 1_700_000_000)
        #expect(MessageDate.parse("Tue, 14 Nov 23 22:13 +0000") == 1_699_999_980)
        #expect(MessageDate.parse("yesterday") == nil)
    }
}

@Suite struct ControlHeaderTests {
    @Test func valuesRoundTripWhateverTheyContain() {
        for value in ["", "plain", "100% sure", "line\nbreak\r\n", "ünï 学生 👍", "a=b; c=\"d\""] {
            let encoded = ControlHeader.encode(value)
            #expect(!encoded.contains(" ") && !encoded.contains("\n"))
            #expect(ControlHeader.decode(encoded) == value)
        }
        #expect(ControlHeader.decode("%ZZ") == nil)
    }

    @Test func internalFieldsAreStrippedBeforeSending() throws {
        var message = try Message(
            parsing: Array(
                """
                From: a@example.org
                X-Postroom-Envelope-To: b%40example.org
                Bcc: secret@example.org
                x-postroom-future-field: kept-out
                X-Postroomish: stays
                Subject: s

                body

                """.utf8))
        #expect(message.control(.envelopeTo) == "b@example.org")
        message.removeInternalFields()
        #expect(message.fields.map(\.name) == ["From", "X-Postroomish", "Subject"])
    }

    @Test func repeatedControlFieldsKeepTheirOrder() {
        var message = Message()
        message.appendControl(.variable, "a=1")
        message.appendControl(.variable, "b=2")
        message.setControl(.attempts, "1")
        message.setControl(.attempts, "2")
        #expect(message.controls(.variable) == ["a=1", "b=2"])
        #expect(message.controls(.attempts) == ["2"])
    }
}

@Suite struct WireFormatTests {
    @Test func theDataSectionHasCRLFOnceAndEndsWithADotLine() {
        #expect(WireFormat.smtpData(Array("a\nb\r\nc".utf8)) == Array("a\r\nb\r\nc\r\n.\r\n".utf8))
        #expect(WireFormat.smtpData([]) == Array(".\r\n".utf8))
        #expect(WireFormat.lf(Array("a\r\nb\r\n".utf8)) == Array("a\nb\n".utf8))
    }

    @Test func dotStuffsLinesStartingWithADot() {
        #expect(
            WireFormat.smtpData(Array(".start\nmid.dle\r\n.\n..two\n.".utf8))
                == Array("..start\r\nmid.dle\r\n..\r\n...two\r\n..\r\n.\r\n".utf8))
    }

    @Test func theDataSectionOfALargeMessageNeverOutgrowsItsBuffer() {
        let lines = Array(repeating: Array(".\n".utf8), count: 50_000).joined()
        let wire = WireFormat.smtpData(Array(lines))
        #expect(wire.count == 50_000 * 4 + 3)
    }
}
