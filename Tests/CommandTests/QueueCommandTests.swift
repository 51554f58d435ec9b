import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// `postroom list`, `hold`, `release`, `requeue` and `delete`, run as separate processes.
@Suite struct QueueCommandTests {
    let directory = TemporaryDirectory("postroom-queue")

    static func name(_ index: Int) -> String { "1795336174.M\(index)P1Q1.test" }

    static func message(to recipient: String, extra: String = "") -> [UInt8] {
        var text = "From: Team <team@example.org>\nTo: <\(recipient)>\nSubject: Hello\n"
        text += "X-Postroom-Envelope-From: <team@example.org>\nX-Postroom-Envelope-To: <\(recipient)>\n"
        if !extra.isEmpty { text += extra + "\n" }
        return Array((text + "\nBody.\n").utf8)
    }

    func postroom(_ arguments: [String], _ spool: Spool, input: String = "") throws -> ProcessResult {
        try Run.program("postroom", arguments + ["--spool", spool.root], input: Array(input.utf8))
    }

    /// Every file of the spool's queues, as `queue/folder/name`, sorted.
    static func files(_ spool: Spool) -> [String] {
        var found: [String] = []
        for queue in Spool.Queue.allCases {
            for folder in Maildir.Folder.allCases {
                found += Files.list(spool.maildir(queue).path(of: folder)).map { "\(queue)/\(folder)/\($0)" }
            }
        }
        return found.sorted()
    }

    /// Locks `path` as a running worker's claim does, until the returned descriptor is closed.
    static func lockAsWorker(_ path: String) throws -> Int32 {
        // Close-on-exec: a program another test starts meanwhile must not inherit (and keep) the lock.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw POSIXError(.EBADF) }
        return fd
    }

    /// A spool with a message in outgoing/new, deferred/new (3 attempts), failed/cur and held/new.
    func populated() throws -> Spool {
        let spool = try directory.spool()
        try spool.maildir(.outgoing).add(Self.message(to: "a@example.org"), as: MessageName(base: Self.name(1)))
        try spool.maildir(.deferred).add(
            Self.message(
                to: "b@example.org", extra: "X-Postroom-Attempts: 3\nX-Postroom-Last-Error: 451%204.3.0%20busy"),
            as: MessageName(base: Self.name(2)), modificationTime: Int(Date().timeIntervalSince1970) + 3600)
        try spool.maildir(.failed).add(
            Self.message(
                to: "c@example.org",
                extra:
                    "X-Postroom-Attempts: 1\nX-Postroom-Last-Error: 550%205.1.1%20no\nX-Postroom-Failure: 550%205.1.1%20no"
            ), as: MessageName(base: Self.name(3), flags: ""), in: .cur)
        try spool.maildir(.sent).add(Self.message(to: "d@example.org"), as: MessageName(base: Self.name(4)), in: .cur)
        return spool
    }

    @Test func listShowsTheOperatorsQueuesWithWhyEachWaits() throws {
        let spool = try populated()
        let result = try postroom(["list"], spool)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // sent/ is not one of the default queues.
        #expect(lines.count == 3, "\(result.stdout)")
        #expect(lines[0].hasPrefix(Self.name(1) + "  outgoing  waiting"))
        #expect(lines[0].contains("<a@example.org>"))
        #expect(lines[1].hasPrefix(Self.name(2) + "  deferred  waiting"))
        #expect(lines[1].contains("(3 attempts, next in ") && lines[1].hasSuffix("451 4.3.0 busy)"), "\(lines[1])")
        #expect(lines[2].hasPrefix(Self.name(3) + "  failed    done"))
        #expect(lines[2].hasSuffix("(1 attempt: 550 5.1.1 no)"), "\(lines[2])")
        let sent = try postroom(["list", "sent"], spool)
        #expect(sent.stdout.hasPrefix(Self.name(4) + "  sent"))
        let bad = try postroom(["list", "nosuch"], spool)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("no queue \"nosuch\""))
    }

    @Test func listJSONIsOneObjectPerLineAndShowsClaims() throws {
        let spool = try populated()
        let claimed = spool.maildir(.outgoing).path(of: .cur) + "/" + Self.name(5) + ":2,"
        try Files.write(claimed, Self.message(to: "e@example.org"))
        let fd = try Self.lockAsWorker(claimed)
        defer { close(fd) }
        let result = try postroom(["list", "--json", "outgoing", "deferred", "failed"], spool)
        #expect(result.status == 0, "\(result.stderr)")
        var objects: [[String: Any]] = []
        for line in result.stdout.split(separator: "\n") {
            objects.append(try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
        }
        #expect(objects.map { $0["name"] as? String } == [1, 5, 2, 3].map(Self.name))
        #expect(objects[1]["state"] as? String == "claimed")
        #expect(objects[1]["file"] as? String == Self.name(5) + ":2,")
        #expect(objects[2]["attempts"] as? Int == 3)
        #expect(objects[2]["last_error"] as? String == "451 4.3.0 busy")
        #expect(objects[2]["next_attempt"] is Int)
        #expect(objects[3]["reason"] as? String == "550 5.1.1 no")
        #expect(objects[3]["recipient"] as? String == "c@example.org")
        #expect(objects[0]["last_error"] is NSNull)
    }

    @Test func holdAndReleaseOfAnOperatorHold() throws {
        let spool = try populated()
        let hold = try postroom(["hold", Self.name(1), Self.name(2)], spool)
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(hold.stdout.contains("\(Self.name(1)): held (by operator, from outgoing/new)"))
        #expect(
            Set(Files.list(spool.maildir(.held).path(of: .new))) == [Self.name(1), Self.name(2)])
        let listed = try postroom(["list", "held"], spool)
        #expect(listed.stdout.contains("held by operator"), "\(listed.stdout)")
        // Again: already done, nothing moves.
        let again = try postroom(["hold", Self.name(1)], spool)
        #expect(again.status == 0)
        #expect(again.stdout.contains("already in held/new"))
        let release = try postroom(["release", Self.name(1)], spool)
        #expect(release.status == 0, "\(release.stderr)")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)) == [Self.name(1)])
        // Again (`postroom release - < held-names` run twice): already done, nothing moves.
        let releasedAgain = try postroom(["release", "-"], spool, input: Self.name(1) + "\n")
        #expect(releasedAgain.status == 0, "\(releasedAgain.stderr)")
        #expect(releasedAgain.stdout.contains("\(Self.name(1)): already released (in outgoing/new); nothing to do"))
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)) == [Self.name(1)])
        // Released unchanged: the deferred one keeps its attempts.
        #expect(try postroom(["release", Self.name(2)], spool).status == 0)
        let back = try Files.text(spool.maildir(.outgoing).path(of: .new) + "/" + Self.name(2))
        #expect(back.contains("X-Postroom-Attempts: 3"))
        let log = try Files.text(spool.logPath)
        #expect(log.contains("\(Self.name(1)): status=held (by operator, from outgoing/new)"))
        #expect(log.contains("\(Self.name(1)): status=released (by operator, to outgoing/new)"))
        // Only outgoing/ and deferred/ are held.
        let failed = try postroom(["hold", Self.name(3)], spool)
        #expect(failed.status == 66)
        #expect(failed.stderr.contains("the message is in failed/cur; hold takes it from outgoing/, deferred/"))
    }

    @Test func requeueResetsTheAttemptsAndDeliverSendsIt() throws {
        let spool = try populated()
        let server = try SMTPTestServer(.accept)
        let result = try postroom(["requeue", Self.name(2), Self.name(3) + ":2,"], spool)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(Self.name(3)): requeued (by operator, from failed/cur, attempts reset)"))
        for name in Files.list(spool.maildir(.outgoing).path(of: .new)) where name != Self.name(1) {
            let text = try Files.text(spool.maildir(.outgoing).path(of: .new) + "/" + name)
            for field in ["Attempts", "Last-Error", "Failure", "Next-Attempt"] {
                #expect(!text.contains("X-Postroom-\(field)"), "\(name): \(text)")
            }
            #expect(text.contains("X-Postroom-Envelope-To"))
        }
        #expect(Files.list(spool.maildir(.deferred).path(of: .new)).isEmpty)
        #expect(Files.list(spool.maildir(.failed).path(of: .cur)).isEmpty)
        // failed/cur/NAME:2, arrives as outgoing/new/NAME.
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).contains(Self.name(3)))
        let deliver = try Run.program(
            "deliver", ["--spool", spool.root, "--once", "--smtp", server.url, "--tls", "off"])
        #expect(deliver.status == 0, "\(deliver.stderr)")
        #expect(try server.messages().count == 3)
        #expect(Files.list(spool.maildir(.sent).path(of: .cur)).count == 4)
    }

    @Test func aRequestThatFailedInExpandGoesBackToExpand() throws {
        let spool = try directory.spool()
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples").path
        let submit = try Run.program(
            "postroom",
            [
                "submit", "--spool", spool.root, "--recipients", examples + "/students.csv", "--send-to", "self",
                "--var", "program.niceName=Splash 2026",
            ], input: try Files.read(examples + "/welcome.eml"))
        #expect(submit.status == 0, "\(submit.stderr)")
        let name = try #require(Files.list(spool.maildir(.request).path(of: .new)).first)
        // The request as expand leaves one it could not take.
        let request = spool.maildir(.request).path(of: .new) + "/" + name
        let failed = spool.maildir(.failed).path(of: .cur) + "/" + name + ":2,"
        try Files.write(
            failed,
            "X-Postroom-Failure: the recipient list is unreadable\nX-Postroom-Failed-In: expand\n"
                + (try Files.text(request)))
        #expect(unlink(request) == 0)

        let result = try postroom(["requeue", name], spool)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\(name): requeued (by operator, from failed/cur to request/new for expand"))
        #expect(Self.files(spool) == ["request/new/\(name)"])
        let expand = try Run.program("expand", ["--spool", spool.root])
        #expect(expand.status == 0, "\(expand.stderr)")
        let jobs = Files.list(spool.maildir(.expanded).path(of: .new))
        #expect(!jobs.isEmpty)
        for job in jobs {
            let text = try Files.text(spool.maildir(.expanded).path(of: .new) + "/" + job)
            #expect(!text.contains("X-Postroom-Failure") && !text.contains("X-Postroom-Failed-In"), "\(job)")
        }
    }

    @Test func deleteRemovesFromAnyQueue() throws {
        let spool = try populated()
        let result = try postroom(["delete", Self.name(1), Self.name(3), Self.name(4) + ":2,"], spool)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.files(spool) == ["deferred/new/\(Self.name(2))"])
        #expect(try Files.text(spool.logPath).contains("\(Self.name(4)): status=deleted (by operator, from sent/cur)"))
    }

    @Test(arguments: [
        (
            "outgoing/new/1795336174.M1P1Q1.test",
            "a path, not a name; give the spool file name alone, as 'postroom list' prints it "
                + "(here \"1795336174.M1P1Q1.test\")"
        ),
        ("..", "names starting with a dot"), ("", "the name is empty"),
        // No suggestion that is not a spool name: neither "passwd" nor an empty one.
        ("/etc/passwd", "a path, not a name; give the spool file name alone, as 'postroom list' prints it\n"),
        ("NAME/", "\"NAME/\": a path, not a name; give the spool file name alone, as 'postroom list' prints it\n"),
        (".hidden", "names starting with a dot"),
        // Two hex digits always: "a\x9b" would read as a, 0x9B.
        ("a\tb", "\"a\\x09b\": a name has no control characters"),
        ("a\\b\u{7f}", "\"a\\\\b\\x7F\""),
    ])
    func namesThatAreNotSpoolNamesAreRefusedWith65(name: String, reason: String) throws {
        let spool = try populated()
        let before = Self.files(spool)
        for command in QueueAction.allCases.map(\.rawValue) {
            let result = try postroom([command, name], spool)
            #expect(result.status == 65, "\(command) \(name): \(result.stderr)")
            #expect(result.stderr.contains(reason), "\(result.stderr)")
        }
        #expect(Self.files(spool) == before)
    }

    @Test func aMissingNameExits66AndEachNameIsReported() throws {
        let spool = try populated()
        let result = try postroom(["hold", "1795336174.M99P1Q1.test", Self.name(1), "../x"], spool)
        #expect(result.status == 66, "the highest of 66, 0 and 65")
        #expect(result.stderr.contains("1795336174.M99P1Q1.test: no such message in \(spool.root)"))
        #expect(result.stderr.contains("\"../x\""))
        #expect(result.stdout.contains("\(Self.name(1)): held"))
        #expect(try postroom(["delete", "1795336174.M99P1Q1.test"], spool).status == 66)
    }

    @Test func aMessageClaimedByALiveWorkerIsNotMoved() throws {
        let spool = try directory.spool()
        let claimed = spool.maildir(.outgoing).path(of: .cur) + "/" + Self.name(7) + ":2,"
        try Files.write(claimed, Self.message(to: "g@example.org"))
        let fd = try Self.lockAsWorker(claimed)
        for command in ["hold", "delete"] {
            let result = try postroom([command, Self.name(7)], spool)
            #expect(result.status == 75, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("claimed by a running deliver"), "\(result.stderr)")
        }
        #expect(Self.files(spool) == ["outgoing/cur/\(Self.name(7)):2,"])
        // The worker died: its abandoned claim can be held.
        close(fd)
        let hold = try postroom(["hold", Self.name(7)], spool)
        #expect(hold.status == 0, "\(hold.stderr)")
        // Into new/ without the info suffix: flags belong to cur/.
        #expect(Self.files(spool) == ["held/new/\(Self.name(7))"])
    }

    @Test func namesFromStandardInputThroughJq() throws {
        let spool = try populated()
        let postroom = Run.binary("postroom")
        let script = """
            "\(postroom)" list --spool "\(spool.root)" --json deferred failed \
            | jq -r 'select(.last_error != null and (.last_error | startswith("550"))) | .name' \
            | "\(postroom)" requeue --spool "\(spool.root)" -
            """
        let result = try Run.program("/bin/sh", ["-c", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(Self.name(3)): requeued (by operator, from failed/cur, attempts reset)\n")
        // JSON lines straight from list, and plain names, with a blank line between.
        let lines = try self.postroom(["list", "--json", "deferred"], spool).stdout + "\n\(Self.name(1))\n"
        let hold = try self.postroom(["hold", "-"], spool, input: lines)
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(Set(Files.list(spool.maildir(.held).path(of: .new))) == [Self.name(1), Self.name(2)])
        let bad = try self.postroom(["delete", "-"], spool, input: "{\"queue\":\"held\"}\nsome/path\n")
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("a JSON line without a \"name\" string"))
        #expect(bad.stderr.contains("a path, not a name"))
    }
}
