import Glibc
import Postroom
import TestSupport
import Testing

@Suite struct SpoolTests {
    let directory = TemporaryDirectory()

    @Test func createMakesTheWholeLayoutAndIsIdempotent() throws {
        let spool = Spool(root: directory.file("spool/"))
        let created = try spool.create()
        #expect(created.contains(spool.logPath))
        #expect(created.contains(spool.suppressPath))
        #expect(
            Files.list(spool.root) == [
                "deferred", "expanded", "failed", "held", "log", "outgoing", "request", "sent", "suppress",
            ])
        for queue in Spool.Queue.allCases {
            #expect(Files.list(spool.maildir(queue).path) == ["cur", "new", "tmp"])
        }
        try Files.write(spool.suppressPath, "kept@example.org\n")
        #expect(try spool.create().isEmpty)
        #expect(try Files.text(spool.suppressPath) == "kept@example.org\n")
    }

    @Test func validateNamesTheMissingPieceAndTheFix() throws {
        let spool = Spool(root: directory.file("spool"))
        #expect(throws: PostroomError.self) { try spool.validate() }
        try spool.create()
        try spool.validate()
        try Files.remove(spool.maildir(.sent).path(of: .tmp))
        #expect {
            try spool.validate()
        } throws: { error in
            (error as? PostroomError)?.description.contains("postroom init") == true
        }
    }

    @Test func logLinesAreGreppableAndOneLineEach() throws {
        let spool = try directory.spool()
        let log = try SpoolLog(path: spool.logPath, program: "deliver", echo: false)
        let name = MessageName(base: "1700000000.M1P2Q3.host.R1")
        log.record(
            name, ["to": "<a@example.org>", "relay": "mx[127.0.0.1]:25", "delay": "0.4", "dsn": "2.0.0"],
            status: "sent", detail: "250 2.0.0 ok\r\nqueued", at: Timestamp(seconds: 1_700_000_000, microseconds: 42))
        log.record(nil, detail: "pass done: 1 sent")
        try log.sync()
        let lines = try Files.text(spool.logPath).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("2023-11-14T22:13:20.000042Z "))
        #expect(
            lines[0].hasSuffix(
                " 1700000000.M1P2Q3.host.R1: to=<a@example.org>, relay=mx[127.0.0.1]:25, delay=0.4, dsn=2.0.0, status=sent (250 2.0.0 ok queued)"
            ))
        #expect(lines[0].contains(" deliver["))
        #expect(lines[1].hasSuffix("]: pass done: 1 sent"))
    }

    @Test func aLineThatCannotBeAppendedMakesSyncThrow() throws {
        // /dev/full answers every write with ENOSPC.
        let log = try SpoolLog(path: "/dev/full", program: "deliver", echo: false)
        log.record(nil, detail: "pass done: 1 sent")
        let error = #expect(throws: PostroomError.self) { try log.sync() }
        #expect(error == .io(operation: "append to", path: "/dev/full", errno: ENOSPC))
        #expect(error?.exitStatus == .tempFail)
    }
}
