import Foundation
import Postroom
import TestSupport
import Testing

@Suite struct SpoolStatusTests {
    @Test func countsEachQueueAndDueDeferredMessages() throws {
        let directory = TemporaryDirectory()
        let spool = try directory.spool()
        let now = Timestamp(seconds: 1_800_000_000)
        try spool.maildir(.outgoing).add([1], as: MessageName(base: "1799999000.M1P1Q1.h"))
        try spool.maildir(.outgoing).add([1], as: MessageName(base: "1799999900.M1P1Q2.h"))
        try Files.write(spool.maildir(.outgoing).path(of: .cur) + "/1799999950.M1P1Q3.h", "claimed")
        // Moved back by hand with its flags: a claim like any other, not finished work (issue 8, item 6).
        try Files.write(spool.maildir(.outgoing).path(of: .cur) + "/1799999950.M1P1Q8.h:2,S", "claimed")
        try spool.maildir(.deferred).add(
            [1], as: MessageName(base: "1799990000.M1P1Q4.h"), modificationTime: now.seconds - 1)
        try spool.maildir(.deferred).add(
            [1], as: MessageName(base: "1799990000.M1P1Q5.h"), modificationTime: now.seconds + 600)
        try Files.write(spool.maildir(.sent).path(of: .cur) + "/1799000000.M1P1Q6.h:2,", "sent")
        try Files.write(spool.maildir(.request).path(of: .cur) + "/1799000000.M1P1Q7.h:2,S", "done")

        let status = try SpoolStatus.measure(spool, now: now)
        let byQueue = Dictionary(uniqueKeysWithValues: status.queues.map { ($0.queue, $0) })
        #expect(byQueue[.outgoing]?.new == 2)
        #expect(byQueue[.outgoing]?.claimed == 2)
        #expect(byQueue[.outgoing]?.done == 0)
        #expect(byQueue[.outgoing]?.oldestAge == 1_000)
        #expect(byQueue[.deferred]?.due == 1)
        #expect(byQueue[.deferred]?.new == 2)
        #expect(byQueue[.deferred]?.oldestAge == 10_000)
        #expect(byQueue[.sent]?.done == 1)
        #expect(byQueue[.request]?.done == 1)
        #expect(byQueue[.request]?.claimed == 0)
        #expect(byQueue[.failed]?.oldestAge == nil)
        #expect(byQueue[.outgoing]?.due == nil)

        let json = try #require(JSONSerialization.jsonObject(with: Data(status.json.utf8)) as? [String: Any])
        let queues = try #require(json["queues"] as? [String: [String: Any]])
        #expect(queues["deferred"]?["due"] as? Int == 1)
        #expect(queues["outgoing"]?["total"] as? Int == 4)
        #expect(status.text.contains("outgoing        2        2        0       -  16m40s"))
    }

    @Test func durationsReadLikeAnOperatorWould() {
        #expect(SpoolStatus.duration(45) == "45s")
        #expect(SpoolStatus.duration(725) == "12m05s")
        #expect(SpoolStatus.duration(3 * 3600 + 120) == "3h02m")
        #expect(SpoolStatus.duration(2 * 86400 + 4 * 3600) == "2d04h")
    }
}
