import Foundation
import PostroomCore
import TestSupport
import Testing

@Suite struct ListPolicyTests {
    static let outsider = ListSamples.post.replacingOccurrences(
        of: "From: The Teacher <teacher@school.example>", with: "From: Parent <parent@home.example>")

    func fixture() throws -> ListFixture {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", ListSamples.members)
        return fixture
    }

    @Test func membersPostByFromOrEnvelopeSender() throws {
        let fixture = try fixture()
        #expect(try fixture.copies(ListSamples.post).count == 2)
        // From is a member, the envelope sender is not (a forwarding host rewrote it).
        #expect(try fixture.copies(ListSamples.post, sender: "srs0=x@relay.example").count == 2)
        // The envelope sender is a member, From is not.
        #expect(try fixture.copies(Self.outsider, sender: "ann@example.org").allSatisfy { $0.destination == .outgoing })
    }

    @Test func aNonMemberPostIsHeldUnchangedWithItsReason() throws {
        let fixture = try fixture()
        let plan = try #require(try fixture.route(Self.outsider, sender: "parent@home.example").plan)
        #expect(plan.copies.count == 1)
        let held = try #require(plan.copies.first)
        #expect(held.destination == .held)
        #expect(held.header + Array(held.body) == Array(Self.outsider.utf8))
        #expect(held.envelope.sender == "parent@home.example")
        #expect(held.envelope.recipients == ["S1234-students@site.example"])
        let control = Dictionary(uniqueKeysWithValues: held.control.map { ($0.0, $0.1) })
        #expect(control[.heldFor] == "S1234-students@site.example")
        #expect(control[.heldReason]?.contains("parent@home.example may not post") == true)
        #expect(plan.summary.contains("held"))
    }

    @Test func aHeldPostLosesForgedControlFields() throws {
        let fixture = try fixture()
        let forged = Self.outsider.replacingOccurrences(
            of: "Subject:", with: "X-Postroom-Envelope-To: victim@example.org\nx-postroom-held-for: x@y\nSubject:")
        let held = try #require(try fixture.copies(forged, sender: "parent@home.example").first)
        #expect(held.header + Array(held.body) == Array(Self.outsider.utf8))
    }

    @Test func aReleasedPostSkipsThePolicy() throws {
        let fixture = try fixture()
        let context = try fixture.context()
        let message = try IncomingMessage(
            bytes: Array(Self.outsider.utf8), recipient: "S1234-students@site.example",
            sender: "parent@home.example", limits: .defaults)
        let handler = try fixture.handler()
        let released = try handler.route(message, context: context, checkingPosters: false)
        #expect(released.plan?.copies.map(\.destination) == [.outgoing, .outgoing, .outgoing])
    }

    @Test func anyoneAndAPostersFile() throws {
        let fixture = try fixture()
        #expect(
            try fixture.copies(Self.outsider, options: ["posters": "anyone"], sender: "parent@home.example").count == 3)
        try fixture.write("lists/S1234-posters", "Parent <PARENT@home.example>\n")
        let allowed = try fixture.copies(
            Self.outsider, options: ["posters": "lists/S1234-posters"], sender: "parent@home.example")
        #expect(allowed.count == 3 && allowed.allSatisfy { $0.destination == .outgoing })
        // A member who is not in the posters file is held.
        let held = try fixture.copies(ListSamples.post, options: ["posters": "lists/S1234-posters"])
        #expect(held.map(\.destination) == [.held])
        // A posters file that is missing is the site's mistake: a local failure, the MTA retries.
        #expect(throws: PostroomError.self) {
            try fixture.route(ListSamples.post, options: ["posters": "lists/none"])
        }
    }

    @Test func theNoticeIsAnAutoReplyFromTheNullSender() throws {
        let fixture = try fixture()
        let copies = try fixture.copies(Self.outsider, options: ["notify": "yes"], sender: "parent@home.example")
        #expect(copies.map(\.destination) == [.held, .outgoing])
        let notice = try #require(copies.last)
        #expect(notice.envelope.sender == nil)
        #expect(notice.envelope.recipients == ["parent@home.example"])
        let message = try notice.parsed()
        #expect(message.value(of: "Auto-Submitted") == "auto-replied")
        #expect(message.value(of: "In-Reply-To") == "<post-1@school.example>")
        #expect(message.value(of: "X-Loop") == "s1234-students@site.example")
        #expect(message.value(of: "From") == "\"S1234-students\" <S1234-students@site.example>")
        #expect(String(decoding: message.body, as: UTF8.self).contains("Homework"))
        // The same post retried gives the same notice.
        let again = try fixture.copies(Self.outsider, options: ["notify": "yes"], sender: "parent@home.example")
        #expect(again.last?.header == notice.header)
    }

    static let automatic = [
        "Auto-Submitted: auto-replied", "Auto-Submitted: auto-generated; reason=x", "Precedence: bulk",
        "Precedence: junk", "Precedence: LIST", "List-Id: <other.example>",
    ]

    @Test(arguments: automatic)
    func noNoticeAnswersAutomaticMail(field: String) throws {
        let fixture = try fixture()
        let post = Self.outsider.replacingOccurrences(of: "Subject:", with: "\(field)\nSubject:")
        let copies = try fixture.copies(post, options: ["notify": "yes"], sender: "parent@home.example")
        #expect(copies.map(\.destination) == [.held])
    }

    @Test func autoSubmittedNoStillGetsANotice() throws {
        let fixture = try fixture()
        let post = Self.outsider.replacingOccurrences(of: "Subject:", with: "Auto-Submitted: no\nSubject:")
        let copies = try fixture.copies(post, options: ["notify": "yes"], sender: "parent@home.example")
        #expect(copies.map(\.destination) == [.held, .outgoing])
    }

    @Test func noNoticeByDefault() throws {
        let fixture = try fixture()
        #expect(try fixture.copies(Self.outsider, sender: "parent@home.example").map(\.destination) == [.held])
    }
}

@Suite struct ListSettingsTests {
    func arguments(_ options: [String: String], file: String = "lists/x") -> RuleArguments {
        RuleArguments(positional: [file], options: options, line: 7, directory: "/rules")
    }

    @Test func defaults() throws {
        let settings = try ListSettings(arguments([:]))
        #expect(settings.memberPath == "/rules/lists/x")
        #expect(settings.posters == .members)
        #expect(!settings.notify && !settings.sendToSelf && settings.keepToCc)
        #expect(settings.replyTo == .poster && settings.fromRewrite == .dmarc && settings.posterTo == .replyTo)
        #expect(settings.subjectTag.isEmpty && settings.listID == nil && settings.help == nil)
    }

    static let bad: [[String: String]] = [
        ["colour": "red"], ["notify": "maybe"], ["self": "2"], ["to_cc": "drop"], ["reply_to": "everyone"],
        ["from_rewrite": "sometimes"], ["poster_to": "bcc"], ["list_id": "nodot"], ["list_id": "a b.c"],
        ["help": "javascript:alert(1)"], ["archive": "https://x/<y>"], ["posters": ""],
    ]

    @Test(arguments: bad)
    func badOptionsAreRefusedWithTheRuleLine(options: [String: String]) {
        #expect {
            _ = try ListSettings(arguments(options))
        } throws: { error in
            (error as? PostroomError)?.description.contains("rule table line 7") == true
        }
    }

    @Test func linksAndAddresses() throws {
        let settings = try ListSettings(arguments(["help": "help@site.example", "archive": "http://site/a"]))
        #expect(settings.help == "mailto:help@site.example")
        #expect(settings.archive == "http://site/a")
    }

    @Test func checkReportsMissingFilesBadLinesAndBadOptions() throws {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", "ann@example.org\nnot an address\n")
        let context = try fixture.context()
        #expect(ListHandler.check(fixture.arguments(), context: context).count == 1)
        #expect(ListHandler.check(fixture.arguments(), context: context).first?.contains("line 2") == true)
        #expect(
            ListHandler.check(fixture.arguments("lists/none"), context: context).first?.contains("does not exist")
                == true)
        // Named through a capture: every file the template can name is read (lists/*-students).
        let templated = ListHandler.check(fixture.arguments("lists/$1-students"), context: context)
        #expect(templated.count == 1 && templated[0].contains("S1234-students line 2"), "\(templated)")
        #expect(ListHandler.check(fixture.arguments("lists/$1-teachers"), context: context).isEmpty)
        let posters = ListHandler.check(
            fixture.arguments("lists/S1234-students", ["posters": "lists/p"]), context: context)
        #expect(posters.contains { $0.contains("posters file") })
        #expect(
            ListHandler.check(fixture.arguments("lists/$1-teachers", ["reply_to": "x"]), context: context).count == 1)
    }
}
