import Foundation
import Glibc
import Postroom
import TestSupport
import Testing

/// Operator commands run as root (umask 077) on a spool that belongs to another user: what they
/// create or replace keeps the spool's owner, so the spool's own user goes on reading and
/// writing it. Needs root (to run commands as `nobody` with setpriv); skipped otherwise.
@Suite(.enabled(if: getuid() == 0, "changing owners needs root"))
struct SpoolOwnershipTests {
    let directory = TemporaryDirectory("postroom-ownership")

    /// The user the spool belongs to in these tests.
    static let owner: (uid: uid_t, gid: gid_t) = {
        guard let entry = getpwnam("nobody") else { return (65534, 65534) }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }()

    /// A spool owned by `nobody`, in a directory `nobody` may pass through.
    func nobodysSpool() throws -> Spool {
        chmod(directory.path, 0o755)
        let spool = try directory.spool()
        try Self.chownTree(spool.root)
        return spool
    }

    static func chownTree(_ path: String) throws {
        let result = try Run.program("/bin/chown", ["-R", "\(owner.uid):\(owner.gid)", path])
        guard result.status == 0 else { throw POSIXError(.EPERM) }
    }

    /// Runs a built program as root with umask 077: what it creates is 0600 root:root unless it fixes that.
    func asRoot(_ program: String, _ arguments: [String]) throws -> ProcessResult {
        try Run.program("/bin/sh", ["-c", "umask 077 && exec \"$@\"", "sh", Run.binary(program)] + arguments)
    }

    /// Runs a built program as the spool's user.
    func asOwner(_ program: String, _ arguments: [String], input: String = "") throws -> ProcessResult {
        try Run.program(
            "/usr/bin/setpriv",
            ["--reuid", "\(Self.owner.uid)", "--regid", "\(Self.owner.gid)", "--clear-groups", Run.binary(program)]
                + arguments, input: Array(input.utf8), environment: ["SENDER": "outsider@example.net"])
    }

    /// Every file and directory under `root` not owned by the spool's user.
    static func foreignFiles(under root: String) -> [String] {
        var foreign: [String] = []
        let walker = FileManager.default.enumerator(atPath: root)
        while let relative = walker?.nextObject() as? String {
            var info = stat()
            if lstat(root + "/" + relative, &info) == 0, info.st_uid != owner.uid || info.st_gid != owner.gid {
                foreign.append(relative)
            }
        }
        return foreign.sorted()
    }

    @Test func suppressAddAsRootLeavesTheListToTheSpoolsUser() throws {
        let spool = try nobodysSpool()
        // The lock and log do not exist yet: the root command creates them.
        try FileManager.default.removeItem(atPath: spool.logPath)
        let added = try asRoot("postroom", ["suppress", "add", "--spool", spool.root, "root@example.org"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(Self.foreignFiles(under: spool.root) == [])
        #expect(FileSystem.status(spool.suppressPath + ".lock").map { $0.st_mode & 0o777 } == 0o640)
        let check = try asOwner("postroom", ["suppress", "check", "--spool", spool.root, "root@example.org"])
        #expect(check.status == 0, "\(check.stderr)")
        let again = try asOwner("postroom", ["suppress", "add", "--spool", spool.root, "other@example.org"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Files.text(spool.suppressPath).contains("other@example.org"))
    }

    @Test func aMessageRequeuedAsRootIsDeliveredByTheSpoolsUser() throws {
        let spool = try nobodysSpool()
        let name = "1795336174.M1P1Q1.test"
        let failed =
            "From: <team@example.org>\nTo: <a@example.org>\nX-Postroom-Envelope-From: <team@example.org>\n"
            + "X-Postroom-Envelope-To: <a@example.org>\nX-Postroom-Attempts: 1\nX-Postroom-Failure: 550%20no\n\nBody.\n"
        try spool.maildir(.failed).add(Array(failed.utf8), as: MessageName(base: name).withInfo(), in: .cur)
        try Self.chownTree(spool.root)
        let requeued = try asRoot("postroom", ["requeue", "--spool", spool.root, name])
        #expect(requeued.status == 0, "\(requeued.stderr)")
        #expect(Self.foreignFiles(under: spool.root) == [])
        let server = try SMTPTestServer(.accept)
        let deliver = try asOwner("deliver", ["--spool", spool.root, "--once", "--smtp", server.url, "--tls", "off"])
        #expect(deliver.status == 0, "\(deliver.stderr)")
        #expect(try server.messages().count == 1)
        #expect(Files.list(spool.maildir(.outgoing).path(of: .cur)).isEmpty)
    }
}

extension SpoolOwnershipTests {
    @Test func aListPostReleasedAsRootLeavesOnlyTheSpoolUsersFiles() throws {
        let spool = try nobodysSpool()
        let members = (1...3).map { "member\($0)@example.org" }
        try Files.write(directory.file("everyone"), members.joined(separator: "\n") + "\n")
        let rules = directory.file("rules")
        try Files.write(rules, "^everyone$ list everyone posters=members notify=no\n")
        let post = "From: <outsider@example.net>\nTo: everyone@site.example\nSubject: Hi\nMessage-ID: <o@x>\n\nHi.\n"
        let route = try asOwner(
            "route", ["--spool", spool.root, "--rules", rules, "--recipient", "everyone@site.example"], input: post)
        #expect(route.status == 0, "\(route.stderr)")
        let held = try #require(Files.list(spool.maildir(.held).path(of: .new)).first)
        let release = try asRoot("postroom", ["release", "--spool", spool.root, "--rules", rules, held])
        #expect(release.status == 0, "\(release.stderr)")
        #expect(Files.list(spool.maildir(.outgoing).path(of: .new)).count == 3)
        #expect(Self.foreignFiles(under: spool.root) == [])
    }

    /// route run by the MTA as a user the spool is not open to: exit 75, with the reason
    /// (permission), not advice to run 'postroom init' on a spool that is complete.
    @Test func routeAsAUserTheSpoolIsClosedToSaysPermissionDenied() throws {
        chmod(directory.path, 0o755)
        let spool = try directory.spool()
        chmod(spool.root, 0o750)  // root's, as 'postroom init' run by root leaves it
        let rules = directory.file("rules")
        try Files.write(rules, "^alias$ redirect someone@example.org\n")
        let arguments = ["--spool", spool.root, "--rules", rules, "--recipient", "alias@site.example"]
        let closed = try asOwner("route", arguments, input: "From: a@example.net\n\nHi.\n")
        #expect(closed.status == 75)
        #expect(closed.stderr.contains("cannot enter the spool \(spool.root): Permission denied"), "\(closed.stderr)")
        #expect(!closed.stderr.contains("incomplete"))

        // Open to it, but the log is root's alone: the write is what fails, and said so.
        chmod(spool.root, 0o755)
        for queue in Spool.Queue.allCases { try Self.chownTree(spool.maildir(queue).path) }
        chmod(spool.logPath, 0o600)
        let log = try asOwner("route", arguments, input: "From: a@example.net\n\nHi.\n")
        #expect(log.status == 75)
        #expect(
            log.stderr.contains("cannot open for writing \(spool.logPath): Permission denied; check the owner"),
            "\(log.stderr)")
    }
}
