import Foundation
import PostroomCore
import TestSupport
import Testing

@Suite struct ListHandlerTests {
    func fixture() throws -> ListFixture {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", ListSamples.members)
        return fixture
    }

    @Test func oneCopyPerMemberWithItsOwnEnvelopeThePosterLeftOut() throws {
        let fixture = try fixture()
        let plan = try #require(try fixture.route(ListSamples.post).plan)
        #expect(plan.copies.map(\.envelope.recipients) == [["ann@example.org"], ["bob@example.net"]])
        #expect(
            plan.copies.map(\.envelope.sender) == [
                "S1234-students-bounces+ann=example.org@site.example",
                "S1234-students-bounces+bob=example.net@site.example",
            ])
        #expect(plan.copies.allSatisfy { $0.destination == .outgoing })
        #expect(plan.copies.map(\.note) == ["member 1 of lists/S1234-students", "member 2 of lists/S1234-students"])
        #expect(plan.summary.contains("2 copies"))
    }

    @Test func selfYesGivesThePosterACopy() throws {
        let fixture = try fixture()
        let copies = try fixture.copies(ListSamples.post, options: ["self": "yes"])
        #expect(copies.map(\.envelope.recipients[0]).contains("teacher@school.example"))
        #expect(copies.count == 3)
    }

    @Test func theBodyIsSharedNotCopied() throws {
        let fixture = try fixture()
        let copies = try fixture.copies(ListSamples.post)
        #expect(copies.count == 2)
        let bases = copies.map { $0.body.withUnsafeBufferPointer { $0.baseAddress } }
        #expect(bases[0] != nil && bases[0] == bases[1])
        #expect(String(decoding: copies[0].body, as: UTF8.self) == "Read chapter 3.\n")
        #expect(copies[0].header.suffix(2) == [10, 10])
    }

    @Test func listFieldsAreAddedAndThePostsOwnReplaced() throws {
        let fixture = try fixture()
        let post = """
            From: The Teacher <teacher@school.example>
            To: S1234-students@site.example
            Subject: Homework
            Message-ID: <post-1@school.example>
            List-Id: <other.list.example>
            List-Unsubscribe: <mailto:other@list.example>
            Precedence: bulk
            X-Loop: other-site@elsewhere.example
            Return-Path: <teacher@school.example>
            Bcc: hidden@example.org
            X-Postroom-Envelope-To: attacker@evil.example

            body

            """
        let options = [
            "name": "S1234 students", "help": "https://site.example/help", "archive": "https://site.example/archive",
        ]
        let message = try #require(try fixture.copies(post, options: options).first).parsed()
        #expect(message.values(of: "List-Id") == ["\"S1234 students\" <s1234-students.site.example>"])
        #expect(message.values(of: "List-Post") == ["<mailto:S1234-students@site.example>"])
        #expect(message.values(of: "List-Help") == ["<https://site.example/help>"])
        #expect(message.values(of: "List-Archive") == ["<https://site.example/archive>"])
        #expect(message.values(of: "List-Unsubscribe").isEmpty)
        #expect(message.values(of: "Precedence") == ["list"])
        // Another site's loop marker stays, so its own loop check still works.
        #expect(
            message.values(of: "X-Loop").sorted() == ["other-site@elsewhere.example", "s1234-students@site.example"])
        #expect(message.values(of: "Message-ID") == ["<post-1@school.example>"])
        #expect(!message.contains("Return-Path") && !message.contains("Bcc"))
        #expect(!message.fields.contains { ControlHeader.isControl($0.name) })
    }

    @Test func listIDOption() throws {
        let fixture = try fixture()
        let message = try #require(
            try fixture.copies(ListSamples.post, options: ["list_id": "s1234.lists.example"]).first
        )
        .parsed()
        #expect(message.values(of: "List-Id") == ["<s1234.lists.example>"])
    }

    @Test func toAndCcKeptOrRemoved() throws {
        let fixture = try fixture()
        let post = ListSamples.post.replacingOccurrences(
            of: "To: S1234-students@site.example", with: "To: S1234-students@site.example\nCc: head@school.example")
        let kept = try #require(try fixture.copies(post).first).parsed()
        #expect(kept.value(of: "Cc") == "head@school.example")
        #expect(kept.value(of: "To") == "S1234-students@site.example")
        let removed = try #require(try fixture.copies(post, options: ["to_cc": "remove"]).first).parsed()
        #expect(removed.value(of: "Cc") == nil)
        #expect(removed.value(of: "To") == "S1234-students@site.example")
    }

    @Test func replyToPosterListOrKept() throws {
        let fixture = try fixture()
        let withReplyTo = ListSamples.post.replacingOccurrences(
            of: "Subject:", with: "Reply-To: office@school.example\nSubject:")
        func replyTo(_ post: String, _ option: String?) throws -> [String] {
            let options = option.map { ["reply_to": $0] } ?? [:]
            return try #require(try fixture.copies(post, options: options).first).parsed().values(of: "Reply-To")
        }
        #expect(try replyTo(ListSamples.post, nil) == ["\"The Teacher\" <teacher@school.example>"])
        #expect(try replyTo(withReplyTo, nil) == ["office@school.example"])
        #expect(try replyTo(ListSamples.post, "list") == ["S1234-students@site.example"])
        #expect(try replyTo(withReplyTo, "list") == ["S1234-students@site.example"])
        #expect(try replyTo(ListSamples.post, "keep") == [])
        #expect(try replyTo(withReplyTo, "keep") == ["office@school.example"])
    }

    @Test func subjectTaggedAndEncodedWhenNotASCII() throws {
        let fixture = try fixture()
        let post = ListSamples.post.replacingOccurrences(
            of: "Subject: Homework", with: "Subject: Re: =?UTF-8?Q?[S1234]_=C3=89t=C3=A9?=")
        let message = try #require(try fixture.copies(post, options: ["tag": "[S1234]"]).first).parsed()
        #expect(message.decodedValue(of: "Subject") == "[S1234] Re: Été")
        #expect(message.value(of: "Subject")?.utf8.allSatisfy { $0 < 128 } == true)
        let untagged = try #require(try fixture.copies(ListSamples.post).first).parsed()
        #expect(untagged.value(of: "Subject") == "Homework")
    }

    @Test func aMissingSubjectGetsTheTagAlone() throws {
        let fixture = try fixture()
        let post = ListSamples.post.replacingOccurrences(of: "Subject: Homework\n", with: "")
        let message = try #require(try fixture.copies(post, options: ["tag": "[S1234]"]).first).parsed()
        #expect(message.values(of: "Subject") == ["[S1234]"])
    }

    @Test func nothingFromThePostOrTheMemberFileMakesANewHeaderLine() throws {
        let fixture = ListFixture()
        try fixture.write(
            "lists/S1234-students", "\"Ann\rBcc: victim@example.org\" <ann@example.org>\nbob@example.net\n")
        let post = ListSamples.post.replacingOccurrences(
            of: "Subject: Homework", with: "Subject: =?UTF-8?Q?Hi=0D=0ABcc:_victim@example.org?=")
        let copies = try fixture.copies(
            post, options: ["tag": "[S1\r\nBcc: x@y]", "name": "N\r\nBcc: x@y", "posters": "anyone"])
        #expect(copies.count == 2)
        for copy in copies {
            let message = try copy.parsed()
            #expect(!message.contains("Bcc"))
            #expect(message.decodedValue(of: "Subject") == "[S1 Bcc: x@y] Hi Bcc: victim@example.org")
        }
    }

    @Test func nullSenderMailIsDropped() throws {
        let fixture = try fixture()
        let reason = try fixture.route(ListSamples.post, sender: nil).dropReason
        #expect(reason?.contains("null-sender") == true)
        #expect(try fixture.route(ListSamples.post, sender: "").dropReason != nil)
    }

    @Test func aListWithNobodyButThePosterSendsNothing() throws {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", "teacher@school.example\n")
        #expect(try fixture.route(ListSamples.post).dropReason != nil)
    }

    @Test func unreadableMemberLinesAreSkippedAndCounted() throws {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", "ann@example.org\nnonsense\nteacher@school.example\n")
        let plan = try #require(try fixture.route(ListSamples.post).plan)
        #expect(plan.copies.count == 1)
        #expect(plan.summary.contains("1 unreadable lines skipped"))
    }
}

@Suite struct ListFanOutSizeTests {
    /// 1,000 members: each copy is the shared header plus its own List-Unsubscribe. The time is
    /// printed for the record, not asserted (the bench measures it).
    @Test func aThousandMembers() throws {
        let fixture = ListFixture()
        let members = (1...1000).map { "Student \($0) <student\($0)@example.org>" }.joined(separator: "\n")
        try fixture.write("lists/S1234-students", members + "\nteacher@school.example\n")
        try fixture.enableUnsubscribe()
        let context = try fixture.context()
        let message = try IncomingMessage(
            bytes: Array(ListSamples.post.utf8), recipient: "S1234-students@site.example",
            sender: "teacher@school.example", limits: .defaults)
        let handler = try ListHandler(fixture.arguments("lists/S1234-students", ["tag": "[S1234]"]), context: context)
        let clock = ContinuousClock()
        var decision: RouteDecision?
        let elapsed = try clock.measure { decision = try handler.route(message, context: context) }
        let plan = try #require(decision?.plan)
        print("list of 1,000 members: \(plan.copies.count) copies planned in \(elapsed)")
        #expect(plan.copies.count == 1000)
        #expect(Set(plan.copies.map(\.envelope.recipients[0])).count == 1000)
        let last = try #require(plan.copies.last).parsed()
        #expect(last.value(of: "List-Unsubscribe")?.contains("student1000%40example.org") == true)
        #expect(last.value(of: "Subject") == "[S1234] Homework")
    }
}
