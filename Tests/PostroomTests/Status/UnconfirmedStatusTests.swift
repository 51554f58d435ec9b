import Foundation
import Postroom
import TestSupport
import Testing

/// `postroom status --unconfirmed-after`: sent messages with `L` and no `C` sent (their mtime,
/// which deliver sets) longer ago than the threshold.
@Suite struct UnconfirmedStatusTests {
    let directory = TemporaryDirectory()

    @Test func onlySentFilesWithLAndWithoutCPastTheThresholdAreListed() throws {
        let spool = try directory.spool()
        let cur = spool.maildir(.sent).path(of: .cur)
        for fileName in [
            "1799000000.M1P1Q1.h:2,L", "1799000000.M1P1Q2.h:2,CL", "1799000000.M1P1Q3.h:2,",
            "1799000000.M1P1Q4.h:2,BL", "1799000000.M1P1Q5.h:2,BCL",
        ] {
            try Files.write("\(cur)/\(fileName)", "sent")
        }
        try Files.write(spool.maildir(.failed).path(of: .cur) + "/1799000000.M1P1Q6.h:2,L", "failed")
        // The files were sent "now" (their mtime): look from two hours later.
        let later = Timestamp(seconds: Timestamp.now().seconds + 7_200)
        let status = try SpoolStatus.measure(spool, now: later, unconfirmedAfter: 3_600)
        let names = status.unconfirmed?.messages.map(\.fileName)
        #expect(names == ["1799000000.M1P1Q1.h:2,L", "1799000000.M1P1Q4.h:2,BL"])
        #expect(status.unconfirmed?.messages.allSatisfy { (7_199...7_201).contains($0.age) } == true)
        #expect(
            status.text.contains("unconfirmed after 1h00m: 2 sent messages whose loopback copy has not come back\n"))
        #expect(status.text.contains("  1799000000.M1P1Q1.h:2,L  sent 2h00m ago\n"))

        let json = try #require(JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any])
        let unconfirmed = try #require(json["unconfirmed"] as? [String: Any])
        #expect(unconfirmed["after_seconds"] as? Int == 3_600)
        #expect(unconfirmed["count"] as? Int == 2)
        let messages = try #require(unconfirmed["messages"] as? [[String: Any]])
        #expect(messages.compactMap { $0["name"] as? String } == names)

        // Not yet past the threshold: nothing to report, and the JSON says so.
        let soon = try SpoolStatus.measure(spool, now: Timestamp.now(), unconfirmedAfter: 3_600)
        #expect(soon.unconfirmed?.messages.isEmpty == true)
        let empty = try #require(JSONSerialization.jsonObject(with: Data(soon.json.utf8)) as? [String: Any])
        #expect((empty["unconfirmed"] as? [String: Any])?["count"] as? Int == 0)
        // Without the option, neither the table nor the JSON mentions it.
        let plain = try SpoolStatus.measure(spool)
        #expect(plain.unconfirmed == nil)
        #expect(!plain.text.contains("unconfirmed") && !plain.json.contains("unconfirmed"))
    }

    @Test func theTableNamesTheOldestAndCountsTheRest() throws {
        let spool = try directory.spool()
        for index in 1...25 {
            try Files.write(spool.maildir(.sent).path(of: .cur) + "/1799000000.M1P1Q\(index).h:2,L", "sent")
        }
        let status = try SpoolStatus.measure(spool, now: Timestamp.now(), unconfirmedAfter: 0)
        #expect(status.unconfirmed?.messages.count == 25)
        #expect(status.text.contains("  ... and 5 more (--json lists them all)\n"))
        #expect(status.text.split(separator: "\n").filter { $0.hasSuffix(" ago") }.count == 20)
    }

    @Test func aFlagAddedLaterDoesNotRestartTheClock() throws {
        let spool = try directory.spool()
        let file = spool.maildir(.sent).path(of: .cur) + "/1799000000.M1P1Q1.h:2,L"
        try Files.write(file, "sent")
        // deliver sent it two hours ago; a delay notice flags it W now (a rename: a new ctime).
        var times = [timespec(tv_sec: 0, tv_nsec: 0), timespec(tv_sec: Timestamp.now().seconds - 7_200, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        #expect(rename(file, spool.maildir(.sent).path(of: .cur) + "/1799000000.M1P1Q1.h:2,LW") == 0)
        let status = try SpoolStatus.measure(spool, now: Timestamp.now(), unconfirmedAfter: 3_600)
        #expect(status.unconfirmed?.messages.map(\.fileName) == ["1799000000.M1P1Q1.h:2,LW"])
        #expect(status.unconfirmed?.messages.first.map { (7_199...7_201).contains($0.age) } == true)
    }
}
