import Glibc
import Postroom
import TestSupport
import Testing

/// The queue commands' library: operator names, finding them, reading names, acting on them.
@Suite struct QueueOperatorTests {
    let directory = TemporaryDirectory("queue-operator")

    static let message = Array("From: a@example.org\nX-Postroom-Envelope-To: <b@example.org>\n\nBody.\n".utf8)

    func queueOperator(_ spool: Spool) throws -> QueueOperator {
        let log = try SpoolLog(path: spool.logPath, program: "test", echo: false)
        return QueueOperator(spool: spool, log: log) { () throws(PostroomError) in
            throw .configuration(location: nil, reason: "no rule table in this test")
        }
    }

    @Test(arguments: ["", "a/b", "/abs", "..", ".", ".hidden", "a\nb", ":2,S"])
    func operatorNamesThatAreNoSpoolNamesAreRefused(text: String) {
        #expect(throws: PostroomError.self) { try MessageName(operatorName: text) }
        #expect((try? MessageName(operatorName: text)) == nil)
        do {
            _ = try MessageName(operatorName: text)
        } catch {
            #expect(error.exitStatus == .dataError)
        }
    }

    @Test func operatorNamesKeepTheirFlags() throws {
        let name = try MessageName(operatorName: "1795336174.M1P1Q1.test:2,LS")
        #expect(name.base == "1795336174.M1P1Q1.test")
        #expect(name.flags == "LS")
    }

    @Test func locateFindsNamesByTheirUsualPathsAndByAScanForOthers() throws {
        let spool = try directory.spool()
        try spool.maildir(.deferred).add(Self.message, as: MessageName(base: "one"))
        try spool.maildir(.failed).add(Self.message, as: MessageName(base: "two").withInfo(), in: .cur)
        // Flags the probe does not guess: only the scan finds it.
        try spool.maildir(.sent).add(Self.message, as: MessageName(base: "three", flags: "CL"), in: .cur)
        let names = ["one", "two", "three", "four"].map { MessageName(base: $0) }
        #expect(spool.probe(names[2]) == nil)
        let found = try spool.locate(names)
        #expect(found["one"] == QueueLocation(queue: .deferred, folder: .new, name: MessageName(base: "one")))
        #expect(found["two"]?.place == "failed/cur")
        #expect(found["three"]?.name.fileName == "three:2,CL")
        #expect(found["four"] == nil)
    }

    @Test func namesAreReadFromArgumentsAndStandardInputLines() throws {
        var reads = 0
        let input = "one\n\n  {\"name\":\"two\",\"queue\":\"failed\"}\r\nthree:2,S\nbad/name\n{\"queue\":\"x\"}\n"
        let given = try QueueNames.parse(["zero", "-", "-"]) { () throws(PostroomError) in
            reads += 1
            return Array(input.utf8)
        }
        #expect(reads == 1)
        #expect(given.map(\.text).count == 6)
        let names = given.map { (try? $0.name.get())?.base }
        #expect(names == ["zero", "one", "two", "three", nil, nil])
    }

    @Test func holdThenRequeueWithOneFileAtEveryStep() throws {
        let spool = try directory.spool()
        let name = MessageName(base: "1795336174.M1P1Q1.test")
        var deferred = try Message(parsing: Self.message)
        deferred.setControl(.attempts, "4")
        deferred.setControl(.lastError, "451 busy")
        try spool.maildir(.deferred).add(deferred.bytes, as: name, modificationTime: 2_000_000_000)
        let queue = try queueOperator(spool)
        var outcomes: [QueueOutcome] = []
        try queue.perform(.hold, on: [name]) { outcomes.append($1) }
        #expect(outcomes.map(\.status) == [.ok])
        #expect(Files.list(spool.maildir(.held).path(of: .new)) == [name.fileName])
        // The deferred file's next attempt comes along (its mtime); held mail is never due.
        #expect(FileSystem.status(spool.maildir(.held).path(of: name, in: .new))?.st_mtim.tv_sec == 2_000_000_000)
        try queue.perform(.requeue, on: [name]) { outcomes.append($1) }
        #expect(outcomes.last?.status == .ok, "\(outcomes)")
        let requeued = try Message(parsing: try Files.read(spool.maildir(.outgoing).path(of: name, in: .new)))
        #expect(requeued.control(.attempts) == nil)
        #expect(requeued.control(.lastError) == nil)
        #expect(requeued.control(.envelopeTo) == "<b@example.org>")
        for queue in Spool.Queue.allCases where queue != .outgoing {
            for folder in Maildir.Folder.allCases {
                #expect(Files.list(spool.maildir(queue).path(of: folder)).isEmpty, "\(queue)/\(folder)")
            }
        }
        #expect(Files.list(spool.maildir(.outgoing).path(of: .tmp)).isEmpty)
    }

    @Test func anUnparsableFailedMessageIsNotRequeuedAndStaysWhereItWas() throws {
        let spool = try directory.spool()
        let name = MessageName(base: "broken").withInfo()
        try spool.maildir(.failed).add(Array("X-Postroom-Failure: bad\nno colon here\n\nx\n".utf8), as: name, in: .cur)
        var outcome: QueueOutcome?
        try queueOperator(spool).perform(.requeue, on: [MessageName(base: "broken")]) { outcome = $1 }
        #expect(outcome?.status == .dataError)
        #expect(outcome?.text.contains("then move it into outgoing/new") == true, "\(outcome?.text ?? "")")
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)) == ["broken:2,"])
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).isEmpty)
    }

    @Test func aHeldPostForAListNeedsTheRuleTable() throws {
        let spool = try directory.spool()
        var post = try Message(parsing: Self.message)
        post.setControl(.heldFor, "list@site.example")
        try spool.maildir(.held).add(post.bytes, as: MessageName(base: "post"))
        var outcome: QueueOutcome?
        try queueOperator(spool).perform(.release, on: [MessageName(base: "post")]) { outcome = $1 }
        #expect(outcome?.status == .config)
        // Nothing was sent: the post is back where it waited.
        #expect(Files.list(spool.maildir(.held).path(of: .new)) == ["post"])
        #expect(Files.list(spool.maildir(.held).path(of: .cur)).isEmpty)
    }
}
