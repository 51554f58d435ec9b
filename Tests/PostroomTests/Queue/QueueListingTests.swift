import Glibc
import Postroom
import TestSupport
import Testing

/// What `postroom list` says of each file: its state, and why it waits.
@Suite struct QueueListingTests {
    let directory = TemporaryDirectory("queue-listing")

    static let message = Array("From: a@example.org\nX-Postroom-Envelope-To: <b@example.org>\n\nBody.\n".utf8)

    func entries(_ spool: Spool, _ queues: [Spool.Queue], now: Int) throws -> [QueueEntry] {
        var found: [QueueEntry] = []
        try QueueListing.forEach(in: spool, queues: queues, now: now) { found.append($0) }
        return found
    }

    @Test func statesOfWaitingDueAbandonedAndInterruptedFiles() throws {
        let spool = try directory.spool()
        let now = 1_795_340_000
        try spool.maildir(.deferred).add(
            Self.message, as: MessageName(base: "1795336174.due"), modificationTime: now - 5)
        try spool.maildir(.deferred).add(
            Self.message, as: MessageName(base: "1795336174.later"), modificationTime: now + 600)
        try spool.maildir(.outgoing).add(Self.message, as: MessageName(base: "1795336174.left").withInfo(), in: .cur)
        var post = try Message(parsing: Self.message)
        post.setControl(.heldFor, "list@site.example")
        post.setControl(.heldReason, "x@y may not post")
        try spool.maildir(.held).add(post.bytes, as: MessageName(base: "1795336174.post").withInfo(), in: .cur)
        let states = Dictionary(
            uniqueKeysWithValues: try entries(spool, [.outgoing, .deferred, .held], now: now).map {
                ($0.name.base, $0)
            })
        #expect(states["1795336174.due"]?.state == "due")
        #expect(states["1795336174.later"]?.state == "waiting")
        #expect(states["1795336174.later"]?.text(now: now).contains("(next in 10m00s)") == true)
        #expect(states["1795336174.left"]?.state == "abandoned")
        #expect(states["1795336174.post"]?.state == "interrupted")
        #expect(states["1795336174.post"]?.reason == "x@y may not post")
        #expect(states["1795336174.post"]?.heldFor == "list@site.example")
        #expect(
            states["1795336174.due"]?.text(now: now).hasPrefix("1795336174.due  deferred  due           1h03m") == true)
    }

    @Test func anUnparsableFailedMessageShowsTheReasonPutInFrontOfIt() throws {
        let spool = try directory.spool()
        let bytes = Array("X-Postroom-Failure: no%20sender\nnot a header line\n\nx\n".utf8)
        try spool.maildir(.failed).add(bytes, as: MessageName(base: "1795336174.bad").withInfo(), in: .cur)
        let entry = try #require(try entries(spool, [.failed], now: 1_795_336_174).first)
        #expect(entry.reason?.hasPrefix("no sender; does not parse: ") == true, "\(entry.reason ?? "")")
        // Control characters in what a file says never break the line.
        #expect(!entry.text(now: 0).contains("\n"))
        #expect(entry.json(now: 0).hasPrefix("{\"name\":\"1795336174.bad\",\"file\":\"1795336174.bad:2,\""))
    }
}
