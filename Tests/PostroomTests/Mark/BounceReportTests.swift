import Glibc
import PostroomCore
import TestSupport
import Testing

/// Recording bounces on a spool: the flag on the sent file, the bounce history, suppression.
@Suite struct BounceReportTests {
    let directory = TemporaryDirectory("bounce-report")
    /// 2025-12-02 08:00 UTC, when the spool name below was made.
    static let day = Timestamp(seconds: 1_764_662_400)
    static let name = MessageName(base: "1764662400.M123456P789Q1.mail.school.example")
    static let verp = "bounces+1764662400.M123456P789Q1.mail.school.example@school.example"

    func spool() throws -> Spool {
        let spool = Spool(root: directory.file("spool"))
        if !FileSystem.exists(spool.root) { _ = try spool.create() }
        return spool
    }

    /// A sent file as deliver leaves it, flags and all.
    func sent(_ name: MessageName = name, to recipient: String, flags: String = "L") throws {
        let text = "X-Postroom-Envelope-To: \(recipient)\nFrom: office@school.example\nTo: \(recipient)\n\nHi\n"
        try Files.write(
            try spool().maildir(.sent).path(of: MessageName(base: name.base, flags: flags), in: .cur), text)
    }

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Files.text(Files.repositoryPath("Tests/Fixtures/bounces/\(name)")).utf8)
    }

    func record(
        _ bytes: [UInt8], to recipient: String, at time: Timestamp = day, config: String = "",
        from sender: String? = nil
    ) throws -> (BounceReport, MarkResult) {
        let configuration = try Configuration(text: config)
        let message = try IncomingMessage(bytes: bytes, recipient: recipient, sender: sender, limits: .none)
        let report = try BounceReport(message: message, configuration: configuration, now: time)
        let log = try SpoolLog(path: try spool().logPath, program: "test", echo: false)
        return (report, try report.record(in: try spool(), configuration: configuration, log: log))
    }

    func sentNames() throws -> [String] { Files.list(try spool().maildir(.sent).path(of: .cur)) }
    func suppressed() throws -> SuppressionList { try SuppressFile(spool: try spool()).read() }
    func history() throws -> [BounceHistory.Entry] { try BounceHistory(spool: try spool()).entries() }
    func log() throws -> String { try Files.text(try spool().logPath) }

    @Test func aVERPBounceFlagsTheFileAndSuppressesANoSuchUserAtOnce() throws {
        try sent(to: "nosuch@member.test")
        let (report, result) = try record(try fixture("exim-dsn.eml"), to: Self.verp)
        #expect(report.name == Self.name)
        #expect(result.status == .ok)
        #expect(try sentNames() == ["\(Self.name.base):2,BL"])
        #expect(try suppressed().contains("nosuch@member.test"))
        let entry = try #require(try suppressed().entries.first)
        #expect(entry.list == nil)
        #expect(entry.note.hasPrefix("2025-12-02 bounced: 5.1.1 on 2025-12-02 (550 5.1.1"), "\(entry.note)")
        // Once suppressed, the address's history lines are gone.
        #expect(try history().isEmpty)
        let log = try log()
        #expect(
            log.contains(
                "\(Self.name.base): to=<nosuch@member.test>, dsn=5.1.1, orig_to=<\(Self.verp)>, status=bounced ("),
            "\(log)")
        #expect(log.contains("to=<nosuch@member.test>, status=suppressed (2025-12-02 bounced: 5.1.1"), "\(log)")
    }

    @Test func theMemberIsTheSentFilesRecipientNotTheReports() throws {
        // The report names someone else (a forwarding address): the file says who we sent to.
        try sent(to: "pupil@school-members.example")
        _ = try record(try fixture("gmail-dsn.eml"), to: Self.verp)
        #expect(try suppressed().contains("pupil@school-members.example"))
        #expect(!(try suppressed().contains("no.such.pupil@gmail.com")))
    }

    @Test func aLowercasedVERPAddressStillFindsTheFile() throws {
        try sent(to: "nosuch@member.test", flags: "")
        _ = try record(try fixture("exim-dsn.eml"), to: Self.verp.lowercased())
        #expect(try sentNames() == ["\(Self.name.base):2,B"])
    }

    @Test func aPlainBounceAddressMatchesByTheOriginalMessageID() throws {
        let name = MessageName(base: "1764666760.M654321P987Q2.mail.school.example")
        try sent(name, to: "gone@member.test")
        _ = try record(try fixture("postfix-dsn.eml"), to: "bounces@school.example")
        #expect(try sentNames() == ["\(name.base):2,BL"])
        #expect(try suppressed().contains("gone@member.test"))
    }

    @Test func aPlainBounceMatchingNothingOfOursCountsAgainstNoOne() throws {
        let (_, result) = try record(try fixture("postfix-dsn.eml"), to: "bounces@school.example")
        #expect(result.status == .ok)
        #expect(try suppressed().count == 0)
        #expect(try history().isEmpty)
        #expect(try log().contains("matches no message or member of ours"))
    }

    @Test func aListCopysBounceNamesTheListAndMember() throws {
        let bounce = try fixture("postfix-dsn.eml")
        let (report, _) = try record(bounce, to: "S1-students-bounces+kid=example.com@lists.example.org")
        #expect(report.list == "S1-students@lists.example.org")
        #expect(report.reportedMember == "kid@example.com")
        #expect(try suppressed().contains("kid@example.com"))
    }

    @Test func policyTemporaryAndFullMailboxesAreRecordedButNeverCounted() throws {
        try sent(to: "slow@member.test")
        _ = try record(try fixture("postfix-delayed.eml"), to: Self.verp)
        #expect(try sentNames() == ["\(Self.name.base):2,LW"])
        _ = try record(try fixture("hotmail-mailbox-full.eml"), to: Self.verp)
        #expect(try sentNames() == ["\(Self.name.base):2,BLW"])
        _ = try record(try fixture("yahoo-policy.eml"), to: "S1-students-bounces+kid=yahoo.example@lists.example.org")
        #expect(try history().isEmpty)
        #expect(try suppressed().count == 0)
        let log = try log()
        #expect(log.contains("dsn=4.4.1, orig_to=<\(Self.verp)>, status=delayed ("), "\(log)")
        #expect(log.contains("dsn=5.2.2, orig_to=<\(Self.verp)>, status=failed ("), "\(log)")
        #expect(log.contains("to=<kid@yahoo.example>, dsn=5.7.9"), "\(log)")
        #expect(log.contains("status=refused (list=S1-students@lists.example.org; 554 5.7.9"), "\(log)")
    }

    @Test func anAutoReplyIsLoggedOnly() throws {
        try sent(to: "pat@member.test")
        _ = try record(try fixture("vacation-autoreply.eml"), to: Self.verp)
        #expect(try sentNames() == ["\(Self.name.base):2,L"])
        #expect(try history().isEmpty)
        #expect(try log().contains("status=auto-reply (logged only"))
    }

    /// A bounce without an immediate status (qmail's text) on `day`, for `member` of the list.
    func softBounce(_ member: String, on time: Timestamp, copy: Int = 0) throws -> MarkResult {
        var bytes = try fixture("qmail-no-dsn.eml")
        // Another bounce (another Message-ID) for each copy, as each day's mail bounces anew.
        bytes = Array("Message-ID: <qmail.\(time.seconds).\(copy)@mx.oldco.example>\n".utf8) + bytes
        let (local, domain) = IncomingMessage.split(member)
        return try record(bytes, to: "S1-students-bounces+\(local)=\(domain)@lists.example.org", at: time).1
    }

    @Test func threeDistinctDaysWithinTheWindowSuppress() throws {
        let member = "sam@oldco.example"
        _ = try softBounce(member, on: Self.day)
        _ = try softBounce(member, on: Timestamp(seconds: Self.day.seconds + 3600), copy: 1)
        #expect(try history().count == 2)
        // Two bounces on one day are one day.
        _ = try softBounce(member, on: Timestamp(seconds: Self.day.seconds + 86_400 * 10))
        #expect(!(try suppressed().contains(member)))
        let third = try softBounce(member, on: Timestamp(seconds: Self.day.seconds + 86_400 * 20))
        #expect(third.detail.contains("suppressed"), "\(third.detail)")
        #expect(try suppressed().contains(member))
        let note = try #require(try suppressed().entries.first?.note)
        #expect(
            note
                == "2025-12-22 bounced: no status on 2025-12-02,2025-12-12,2025-12-22 (list=S1-students@lists.example.org)"
        )
        #expect(try history().isEmpty)
    }

    @Test func bouncesOlderThanTheWindowAreDroppedAndDoNotCount() throws {
        let member = "sam@oldco.example"
        _ = try softBounce(member, on: Self.day)
        _ = try softBounce(member, on: Timestamp(seconds: Self.day.seconds + 86_400 * 10))
        // 31 days after the first: it has left the 30-day window.
        _ = try softBounce(member, on: Timestamp(seconds: Self.day.seconds + 86_400 * 31))
        #expect(!(try suppressed().contains(member)))
        #expect(try history().map(\.date) == ["2025-12-12", "2026-01-02"])
    }

    @Test func theThresholdAndWindowAreConfigured() throws {
        let member = "sam@oldco.example"
        let config = "bounce_days = 2\nbounce_window = 7d\n"
        func bounce(_ days: Int) throws {
            var bytes = try fixture("qmail-no-dsn.eml")
            bytes = Array("Message-ID: <q.\(days)@mx.oldco.example>\n".utf8) + bytes
            _ = try record(
                bytes, to: "S1-students-bounces+sam=oldco.example@lists.example.org",
                at: Timestamp(seconds: Self.day.seconds + 86_400 * days), config: config)
        }
        try bounce(0)
        try bounce(8)
        #expect(!(try suppressed().contains(member)))
        try bounce(9)
        #expect(try suppressed().contains(member))
        #expect(throws: PostroomError.self) {
            try record(try fixture("qmail-no-dsn.eml"), to: Self.verp, config: "bounce_days = 0\n")
        }
        #expect(throws: PostroomError.self) {
            try record(try fixture("qmail-no-dsn.eml"), to: Self.verp, config: "bounce_window = soon\n")
        }
    }

    @Test func theSameBounceDeliveredTwiceCountsOnce() throws {
        let member = "sam@oldco.example"
        _ = try softBounce(member, on: Self.day)
        // The MTA delivers the same bounce again, on later days: the same bounce, counted once.
        let again = try softBounce(member, on: Self.day)
        #expect(again.detail.hasSuffix(": counted before"), "\(again.detail)")
        var bytes = try fixture("qmail-no-dsn.eml")
        bytes = Array("Message-ID: <qmail.\(Self.day.seconds).0@mx.oldco.example>\n".utf8) + bytes
        for later in 1...3 {
            _ = try record(
                bytes, to: "S1-students-bounces+sam=oldco.example@lists.example.org",
                at: Timestamp(seconds: Self.day.seconds + 86_400 * later))
        }
        #expect(try history().count == 1)
        #expect(!(try suppressed().contains(member)))
    }

    @Test func anAddressSuppressedByHandIsNotAddedAgain() throws {
        try SuppressFile(spool: try spool()).add(SuppressionList.Entry(address: "NoSuch@member.test", note: "by hand"))
        try sent(to: "nosuch@member.test")
        _ = try record(try fixture("exim-dsn.eml"), to: Self.verp)
        #expect(try suppressed().count == 1)
        #expect(try log().contains("status=suppressed (already suppressed)"))
    }

    /// Anyone can send a "bounce": only one about a message of ours, from a mail system, counts.
    @Test func forgedBouncesSuppressNoOne() throws {
        // A person writes "550 5.1.1" to a list's VERP address, from an ordinary address.
        let note = Array(
            "From: someone@example.net\nTo: x@school.example\nSubject: hi\n\n550 5.1.1 user unknown\n".utf8)
        let (_, personal) = try record(
            note, to: "S1-students-bounces+principal=school.example@school.example", from: "someone@example.net")
        #expect(personal.status == .ok)
        // A real-looking report for a VERP name that is not in sent/ names no member of ours.
        let (_, unmatched) = try record(try fixture("gmail-dsn.eml"), to: Self.verp)
        #expect(unmatched.status == .ok)
        #expect(try suppressed().count == 0)
        #expect(try history().isEmpty)
        let log = try log()
        #expect(log.contains("status=ignored (not from a mail system"), "\(log)")
        #expect(log.contains("not in sent/; matches no message or member of ours"), "\(log)")
        // From MAILER-DAEMON, a list's bounce still counts.
        let (_, daemon) = try record(
            try fixture("gmail-dsn.eml"), to: "S1-students-bounces+kid=example.com@school.example",
            from: "MAILER-DAEMON@mx.example.com")
        #expect(daemon.status == .ok)
        #expect(try suppressed().contains("kid@example.com"))
    }
}
