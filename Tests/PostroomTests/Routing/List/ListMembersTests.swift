import Foundation
import TestSupport
import Testing

@testable import PostroomCore

@Suite struct ListMembersTests {
    @Test func readsNamesAddressesCommentsAndBlankLines() {
        let file = ListMembers(text: Array(ListSamples.members.utf8), path: "lists/x")
        #expect(file.members.map(\.address) == ["ann@example.org", "bob@example.net", "teacher@school.example"])
        #expect(file.members.map(\.displayName) == ["Ann Example", nil, "Teacher, The"])
        #expect(file.members.map(\.line) == [2, 3, 5])
        #expect(file.problems.isEmpty)
    }

    @Test func invalidLinesAreReportedWithTheirNumberAndSkipped() {
        let text =
            "ann@example.org\nnot an address\nbob@\n<carl@example.org>\nx@[192.0.2.1]\nlocal\n\"a b\"@example.org\r\n"
        let file = ListMembers(text: Array(text.utf8), path: "lists/x")
        #expect(
            file.members.map(\.address) == [
                "ann@example.org", "carl@example.org", "x@[192.0.2.1]", "\"a b\"@example.org",
            ])
        #expect(file.problems.map(\.line) == [2, 3, 6])
        #expect(file.problems.allSatisfy { $0.text.hasPrefix("lists/x line \($0.line): ") })
    }

    @Test func duplicatesCountOnceIgnoringCase() {
        let text = "Ann@Example.org\nann@example.ORG\nOther Name <ANN@EXAMPLE.ORG>\n"
        let file = ListMembers(text: Array(text.utf8), path: "x")
        #expect(file.members.map(\.address) == ["Ann@Example.org"])
        #expect(file.contains("ann@example.org"))
        #expect(!file.contains("bob@example.org"))
    }

    @Test func lineBreaksInANameCannotMakeAHeaderLine() {
        let text = "\"Ann\rBcc: victim@example.org\" <ann@example.org>\n"
        let file = ListMembers(text: Array(text.utf8), path: "x")
        #expect(file.members.count == 1)
        #expect(file.members.first?.address == "ann@example.org")
    }

    @Test func aMissingFileIsNoListAndTheNextRuleIsTried() throws {
        let fixture = ListFixture()
        #expect(try ListMembers.load(fixture.directory.file("lists/none")) == nil)
        #expect(try fixture.route(ListSamples.post).isPass)
    }

    @Test func aLowercasedLocalPartFindsTheFileInItsOwnCase() throws {
        let fixture = ListFixture()
        try fixture.write("lists/S1234-students", ListSamples.members)
        let found = try ListMembers.load(fixture.directory.file("lists/s1234-students"))
        #expect(found?.path == fixture.directory.file("lists/S1234-students"))
        let copies = try fixture.copies(ListSamples.post, options: [:])
        #expect(copies.count == 2)
        let lowercase = try fixture.route(ListSamples.post, file: "lists/s1234-STUDENTS")
        #expect(lowercase.plan?.copies.count == 2)
    }

    @Test func anUnreadableFileIsALocalFailure() throws {
        let fixture = ListFixture()
        try FileManager.default.createDirectory(
            atPath: fixture.directory.file("lists/S1234-students"), withIntermediateDirectories: true)
        #expect(throws: PostroomError.self) { try fixture.route(ListSamples.post) }
    }
}

@Suite struct VERPTests {
    static let members = [
        "kid@example.com", "a+b@example.com", "a=b@example.com", "x+y=z+w@example.com", "Kid.Name@Example.COM",
        "o'brien@example.ie", "a@sub.example.co.uk",
    ]

    @Test(arguments: members)
    func roundTrips(member: String) throws {
        let address = VERP.encode(member: member, list: "S1234-students@site.example")
        #expect(Envelope.problem(in: address) == nil)
        let decoded = try #require(VERP.decode(address))
        #expect(decoded.member == member)
        #expect(decoded.list == "S1234-students@site.example")
    }

    @Test func theFormatIsListBouncesPlusLocalEqualsDomain() {
        #expect(
            VERP.encode(member: "kid@example.com", list: "S1234-students@site")
                == "S1234-students-bounces+kid=example.com@site")
        #expect(VERP.bounceAddress(list: "S1234-students@site") == "S1234-students-bounces@site")
    }

    @Test func membersThatCannotBeEncodedGetThePlainBounceAddress() {
        #expect(VERP.encode(member: "\"a b\"@example.com", list: "l@site") == "l-bounces@site")
        #expect(VERP.encode(member: "a@[192.0.2.1]", list: "l@site") == "l-bounces@site")
    }

    @Test func otherAddressesAreNotVERP() {
        #expect(VERP.decode("S1234-students@site") == nil)
        #expect(VERP.decode("S1234-students-bounces@site") == nil)
        #expect(VERP.decode("S1234-students-bounces+nodomain@site") == nil)
        #expect(VERP.decode("-bounces+a=b@site") == nil)
        #expect(VERP.decode("l-bounces+=b@site") == nil)
    }
}

@Suite struct ListMemberLineTests {
    /// The quick reader and the full parser agree on every line the quick one accepts.
    static let lines = [
        "ann@example.org", "Ann Example <ann@example.org>", "<ann@example.org>", "  Ann   <ann@example.org>  ",
        "O'Brien <o'brien@example.ie>", "a+b=c@example.org", "x@localhost", "Ann <ann@example.org",
        "=?UTF-8?Q?=C3=89?= <e@example.org>", "\"Quoted\" <q@example.org>", "a..b@example.org", "ann@-bad-.org",
        "Ann <ann@example.org> extra", "a@b@c", "Ann, Bob <ab@example.org>", "(comment) a@example.org",
    ]

    @Test(arguments: lines)
    func quickAndFullParsersAgree(line: String) {
        let full = Mailbox.fullParse(line)
        if let quick = ListMembers.quickParse(line.trimmingCharacters(in: .whitespaces)) {
            #expect(quick.address == full?.address)
            #expect(quick.displayName == full?.displayName)
        }
        let file = ListMembers(text: Array(line.utf8), path: "x")
        #expect(file.members.first?.address == full?.address)
    }
}

extension Mailbox {
    /// The line as the full parser reads it, when it is a mailbox SMTP can carry.
    static func fullParse(_ line: String) -> Mailbox? {
        guard let mailbox = try? Mailbox(parsing: line), Envelope.problem(in: mailbox.address) == nil else {
            return nil
        }
        return mailbox
    }
}
