import Foundation
import Postroom
import TestSupport
import Testing

/// Spool guarantees that only show across processes: races, kills, crashes.
@Suite struct SpoolProcessTests {
    let directory = TemporaryDirectory()

    func maildir() throws -> Maildir {
        let maildir = Maildir(path: directory.file("queue"))
        try maildir.create()
        return maildir
    }

    @Test func twoProcessesClaimEachOfAThousandMessagesExactlyOnce() throws {
        let maildir = try maildir()
        let generator = MessageNameGenerator(host: "test")
        var names = Set<String>()
        for _ in 0..<1_000 {
            let name = generator.next()
            try maildir.add(Array("Subject: x\n\nb\n".utf8), as: name)
            names.insert(name.fileName)
        }
        let first = try Run.start("spool-worker", ["claim", maildir.path])
        let second = try Run.start("spool-worker", ["claim", maildir.path])
        func claimed(_ worker: (Process, Pipe)) -> [String] {
            let data = worker.1.fileHandleForReading.readDataToEndOfFile()
            worker.0.waitUntilExit()
            return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        }
        let a = claimed(first)
        let b = claimed(second)
        #expect(first.0.terminationStatus == 0 && second.0.terminationStatus == 0)
        #expect(a.count + b.count == 1_000)
        #expect(Set(a).isDisjoint(with: Set(b)))
        #expect(Set(a).union(b) == names)
        #expect(Files.list(maildir.path(of: .new)).isEmpty)
        #expect(Files.list(maildir.path(of: .cur)).count == 1_000)
    }

    @Test func aWriterKilledBeforeItsRenameLeavesNothingInNew() throws {
        let maildir = try maildir()
        let writer = try Run.start("spool-worker", ["write", maildir.path, "victim", "100000"])
        #expect(Run.firstLine(of: writer.1) == "staged victim")
        Run.kill9(writer.0)
        #expect(Files.list(maildir.path(of: .new)).isEmpty)
        #expect(Files.list(maildir.path(of: .tmp)) == ["victim"])
        // Its writer is gone: nobody holds the file, so the next sweep removes it.
        #expect(maildir.sweepTemporaryFiles() == ["victim"])
    }

    @Test func aClaimFromAKilledProcessIsRecoveredButALiveOneIsNot() throws {
        let maildir = try maildir()
        try maildir.add(Array("Subject: x\n\nb\n".utf8), as: MessageName(base: "m1"))
        let holder = try Run.start("spool-worker", ["hold", maildir.path, "m1"])
        #expect(Run.firstLine(of: holder.1) == "held m1")
        #expect(try maildir.recoverAbandonedClaims().isEmpty)
        #expect(Files.list(maildir.path(of: .cur)) == ["m1"])
        // The lock is visible to operators through flock(1) as well.
        let probe = try Run.program("/usr/bin/flock", ["-n", maildir.path(of: .cur) + "/m1", "true"])
        #expect(probe.status != 0)
        Run.kill9(holder.0)
        #expect(try maildir.recoverAbandonedClaims().map(\.name.fileName) == ["m1"])
        #expect(Files.list(maildir.path(of: .new)) == ["m1"])
        #expect(try maildir.claim("m1") != nil)
    }
}
