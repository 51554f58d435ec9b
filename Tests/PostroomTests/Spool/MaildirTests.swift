import Glibc
import Postroom
import TestSupport
import Testing

@Suite struct MaildirTests {
    let directory = TemporaryDirectory()

    func maildir() throws -> Maildir {
        let maildir = Maildir(path: directory.file("queue"))
        try maildir.create()
        return maildir
    }

    @Test func addWritesCompleteFileIntoNewAndLeavesTmpEmpty() throws {
        let maildir = try maildir()
        try maildir.add(Array("hello\n".utf8), as: MessageName(base: "one"))
        #expect(Files.list(maildir.path(of: .new)) == ["one"])
        #expect(Files.list(maildir.path(of: .tmp)).isEmpty)
        #expect(try Files.text(maildir.path(of: .new) + "/one") == "hello\n")
    }

    @Test func addRefusesToOverwrite() throws {
        let maildir = try maildir()
        try maildir.add([1], as: MessageName(base: "one"))
        #expect(throws: PostroomError.self) { try maildir.add([2], as: MessageName(base: "one")) }
        #expect(try Files.read(maildir.path(of: .new) + "/one") == [1])
        #expect(Files.list(maildir.path(of: .tmp)).isEmpty)
    }

    @Test func stagedFileIsInvisibleUntilPublished() throws {
        let maildir = try maildir()
        let name = try maildir.stage(Array("x".utf8), as: MessageName(base: "staged"))
        #expect(Files.list(maildir.path(of: .new)).isEmpty)
        try maildir.publish(name)
        #expect(Files.list(maildir.path(of: .new)) == ["staged"])
    }

    @Test func addSetsModificationTimeForDeferredMessages() throws {
        let maildir = try maildir()
        try maildir.add([1], as: MessageName(base: "later"), modificationTime: 4_000_000_000)
        var info = stat()
        stat(maildir.path(of: .new) + "/later", &info)
        #expect(info.st_mtim.tv_sec == 4_000_000_000)
    }

    @Test func claimMovesToCurAndSecondClaimLoses() throws {
        let maildir = try maildir()
        try maildir.add(Array("body".utf8), as: MessageName(base: "m"))
        let claim = try #require(try maildir.claim("m"))
        #expect(Files.list(maildir.path(of: .cur)) == ["m"])
        #expect(try claim.read() == Array("body".utf8))
        #expect(try maildir.claim("m") == nil)
        #expect(try maildir.claim("never-existed") == nil)
    }

    @Test func claimedMessageMovesOnKeepingItsName() throws {
        let source = try maildir()
        let target = Maildir(path: directory.file("sent"))
        try target.create()
        try source.add([1], as: MessageName(base: "m"))
        let claim = try #require(try source.claim("m"))
        let moved = try claim.move(to: target, folder: .cur)
        #expect(moved.fileName == "m:2,")
        #expect(Files.list(target.path(of: .cur)) == ["m:2,"])
        #expect(Files.list(source.path(of: .cur)).isEmpty)
    }

    @Test func replaceWritesNewContentAndRemovesClaim() throws {
        let source = try maildir()
        let target = Maildir(path: directory.file("next"))
        try target.create()
        try source.add(Array("old".utf8), as: MessageName(base: "m"))
        let claim = try #require(try source.claim("m"))
        try claim.replace(with: Array("new".utf8), to: target, folder: .new)
        #expect(try Files.text(target.path(of: .new) + "/m") == "new")
        #expect(Files.list(source.path(of: .cur)).isEmpty)
        #expect(Files.list(target.path(of: .tmp)).isEmpty)
    }

    @Test func replaceInPlaceKeepsTheNewContent() throws {
        let maildir = try maildir()
        try maildir.add(Array("old".utf8), as: MessageName(base: "m:2,"))
        let claim = try #require(try maildir.claim("m:2,"))
        try claim.replace(with: Array("new".utf8), to: maildir, folder: .cur)
        #expect(try Files.text(maildir.path(of: .cur) + "/m:2,") == "new")
    }

    @Test func manualRetryWithInfoSuffixIsClaimable() throws {
        // mv spool/failed/cur/X:2,S spool/outgoing/new/ must work as it stands.
        let maildir = try maildir()
        try Files.write(maildir.path(of: .new) + "/x:2,S", "retry me")
        let claim = try #require(try maildir.claim("x:2,S"))
        #expect(claim.name.base == "x")
        #expect(try claim.read() == Array("retry me".utf8))
    }

    @Test func releaseReturnsMessageToNew() throws {
        let maildir = try maildir()
        try maildir.add([1], as: MessageName(base: "m"))
        let claim = try #require(try maildir.claim("m"))
        #expect(try claim.release())
        #expect(Files.list(maildir.path(of: .new)) == ["m"])
    }

    @Test func abandonedClaimIsRecoveredButDoneAndHeldOnesAreNot() throws {
        let maildir = try maildir()
        // A claim whose process is gone: in cur/, nobody holds its lock.
        try Files.write(maildir.path(of: .cur) + "/abandoned", "a")
        try Files.write(maildir.path(of: .cur) + "/finished:2,S", "f")
        try maildir.add([1], as: MessageName(base: "held"))
        let held = try #require(try maildir.claim("held"))
        let recovered = try maildir.recoverAbandonedClaims()
        #expect(recovered.map(\.name.fileName) == ["abandoned"])
        #expect(Files.list(maildir.path(of: .new)) == ["abandoned"])
        #expect(Files.list(maildir.path(of: .cur)) == ["finished:2,S", "held"])
        held.unlock()
        #expect(try maildir.recoverAbandonedClaims().map(\.name.fileName) == ["held"])
    }

    /// Item 6 of issue 8: where `S` does not mean done (outgoing/), a claim flagged `S`
    /// (moved back by hand with its `:2,S`) is still recovered.
    @Test func anSFlaggedClaimIsRecoveredWhereSIsNotDone() throws {
        let maildir = try maildir()
        try Files.write(maildir.path(of: .cur) + "/moved-back:2,S", "m")
        #expect(try maildir.recoverAbandonedClaims(keepingDone: false).map(\.name.fileName) == ["moved-back:2,S"])
        #expect(Files.list(maildir.path(of: .new)) == ["moved-back:2,S"])
    }

    @Test func recoveryCanSendAClaimOnToAnotherQueue() throws {
        let maildir = try maildir()
        let next = Maildir(path: directory.file("next"))
        try next.create()
        try Files.write(maildir.path(of: .cur) + "/done-already", "output")
        try Files.write(maildir.path(of: .cur) + "/input", "input")
        let recovered = try maildir.recoverAbandonedClaims { (claim) throws(PostroomError) -> Maildir in
            try claim.read() == Array("output".utf8) ? next : maildir
        }
        let places: [String: String] = Dictionary(
            uniqueKeysWithValues: recovered.map { ($0.name.fileName, $0.to.path) })
        #expect(places == ["done-already": next.path, "input": maildir.path])
        #expect(Files.list(next.path(of: .new)) == ["done-already"])
        #expect(Files.list(maildir.path(of: .new)) == ["input"])
    }

    @Test func markDoneKeepsRecordInCur() throws {
        let maildir = try maildir()
        try maildir.add([1], as: MessageName(base: "req"))
        let claim = try #require(try maildir.claim("req"))
        #expect(try claim.markDone().fileName == "req:2,S")
        #expect(try maildir.recoverAbandonedClaims().isEmpty)
    }

    /// Item 1 of issue 8: a leftover in tmp/ never blocks a later write of the same name, and a
    /// sweep removes what no writer holds.
    @Test func aLeftoverTemporaryFileIsTakenOverAndSwept() throws {
        let maildir = try maildir()
        try Files.write(maildir.path(of: .tmp) + "/leftover", "half a mess")
        try maildir.add(Array("whole\n".utf8), as: MessageName(base: "leftover"))
        #expect(try Files.text(maildir.path(of: .new) + "/leftover") == "whole\n")
        try Files.write(maildir.path(of: .tmp) + "/dead", "x")
        #expect(maildir.sweepTemporaryFiles() == ["dead"])
        #expect(Files.list(maildir.path(of: .tmp)).isEmpty)
    }

    @Test func aClaimReplacedAndMovedLeavesOneFile() throws {
        let maildir = try maildir()
        let target = Maildir(path: directory.file("target"))
        try target.create()
        try Files.write(target.path(of: .tmp) + "/m", "leftover")
        try maildir.add(Array("old\n".utf8), as: MessageName(base: "m"))
        let claim = try #require(try maildir.claim("m"))
        try claim.replace(with: Array("new\n".utf8), to: target, folder: .cur)
        #expect(Files.list(maildir.path(of: .cur)).isEmpty && Files.list(target.path(of: .tmp)).isEmpty)
        #expect(try Files.text(target.path(of: .cur) + "/m:2,") == "new\n")
    }

    @Test func directoryStreamSeesEveryFileAndSkipsDotFiles() throws {
        let maildir = try maildir()
        for index in 0..<5_000 { try Files.write(maildir.path(of: .new) + "/m\(index)", "") }
        try Files.write(maildir.path(of: .new) + "/.hidden", "")
        var count = 0
        for name in maildir.names(in: .new) {
            #expect(!name.hasPrefix("."))
            count += 1
        }
        #expect(count == 5_000)
    }

    @Test func missingDirectoryIsAnErrorThatSaysWhatToDo() {
        #expect {
            _ = try DirectoryStream(path: directory.file("absent")).checked()
        } throws: { error in
            guard let error = error as? PostroomError else { return false }
            return error.exitStatus == .noInput && error.description.contains("postroom init")
        }
    }
}
