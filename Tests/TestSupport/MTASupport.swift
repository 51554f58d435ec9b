import Foundation
import Glibc

/// Ports on 127.0.0.1 for the servers the tests start.
public enum LocalPort {
    /// A port on 127.0.0.1 that nothing listens on (connections to it are refused) until someone binds it.
    public static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        return try bind(fd)
    }

    /// Binds socket `fd` to 127.0.0.1 and a port the OS picks; returns the port.
    public static func bind(_ fd: Int32) throws -> Int {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else {
            throw TestServerError(description: "cannot bind to 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A server process the test started with `ChildProcess.spawn`: waited for, killed by PID.
final class ServerProcess: @unchecked Sendable {
    let pid: pid_t
    private var exited = false

    /// Starts `path`; its output goes to `output`.
    init(_ path: String, _ arguments: [String], environment: [String: String] = [:], output: String) throws {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        pid = try ChildProcess.spawn(path, arguments, environment: env, output: output)
    }

    /// Whether it is still running (reaps it when it has exited).
    var isRunning: Bool {
        guard !exited else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    /// Waits until `ready` holds, giving up when the process exits or after `seconds`.
    func wait(seconds: Double = 10, until ready: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !ready() {
            guard isRunning, Date() < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return true
    }

    /// SIGKILL (the test runner may start children with SIGTERM ignored), then reaps it.
    func stop() {
        guard !exited else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exited = true
    }

    deinit { stop() }
}

/// Sends a message over SMTP with Python's smtplib, an independent client.
public enum SMTPSubmission {
    /// Submits `message` to 127.0.0.1:`port` with MAIL FROM `from` (empty for a bounce) and
    /// RCPT TO each of `to`; throws with the server's answer when it refuses any of them.
    public static func send(port: Int, from: String, to: [String], message: String) throws {
        let script = """
            import smtplib, sys
            port, sender, recipients = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
            with smtplib.SMTP("127.0.0.1", port) as client:
                # CRLF throughout, or smtplib appends one more line ending before the dot.
                data = sys.stdin.buffer.read().replace(b"\\r\\n", b"\\n").replace(b"\\n", b"\\r\\n")
                refused = client.sendmail(sender, recipients, data)
            sys.exit(str(refused) if refused else 0)
            """
        let result = try Run.program(
            "/usr/bin/python3", ["-c", script, String(port), from] + to, input: Array(message.utf8))
        guard result.status == 0 else {
            throw TestServerError(description: "SMTP submission to port \(port) failed: \(result.stderr)")
        }
    }
}

/// Tests/Scripts/pipe_recorder.sh, the stand-in for route that the MTA tests pipe into: each
/// call is recorded under its `--spool` directory, and it exits with the code the recipient's
/// local part names (`exit75@…` exits 75 with a line on standard error, anything else 0).
public enum PipeRecorder {
    /// One recorded call.
    public struct Call: Sendable {
        /// The arguments, in order.
        public var arguments: [String]
        /// The variables the MTA set, of RECIPIENT, SENDER, LOCAL_PART, DOMAIN,
        /// LOCAL_PART_SUFFIX and ORIGINAL_RECIPIENT.
        public var environment: [String: String]
        /// The user it ran as.
        public var uid: Int
        /// The message exactly as it arrived on standard input.
        public var message: String
    }

    /// The script's path: the command to put into an MTA's configuration.
    public static var command: String { Files.repositoryPath("Tests/Scripts/pipe_recorder.sh") }

    /// The calls recorded under `spool`, oldest first, after waiting up to `seconds` for `count` of them.
    public static func calls(in spool: String, count: Int = 1, waitingUpTo seconds: Double = 10) throws -> [Call] {
        let directory = "\(spool)/calls"
        let deadline = Date().addingTimeInterval(seconds)
        var names: [String] { Files.list(directory).filter { $0.hasPrefix("call.") } }
        while names.count < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return try names.map { try parse(Files.text("\(directory)/\($0)")) }
    }

    private static func parse(_ text: String) -> Call {
        var call = Call(arguments: [], environment: [:], uid: -1, message: "")
        guard let blank = text.range(of: "\n\n") else { return call }
        call.message = String(text[blank.upperBound...])
        for line in text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("argument ") {
                call.arguments.append(String(line.dropFirst(9)))
            } else if line.hasPrefix("environment "), let equals = line.firstIndex(of: "=") {
                call.environment[String(line[line.index(line.startIndex, offsetBy: 12)..<equals])] = String(
                    line[line.index(after: equals)...])
            } else if line.hasPrefix("uid ") {
                call.uid = Int(line.dropFirst(4)) ?? -1
            }
        }
        return call
    }
}

extension Files {
    /// A path inside the repository (examples/…, Tests/Scripts/…, .build/…).
    public static func repositoryPath(_ relative: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(relative).path
    }

    /// Lets `user` write `directory` (chown -R) and reach it and `readable` (search permission
    /// on each parent inside /tmp: the tests' temporary directories are 0700). The MTAs run
    /// their pipe commands as an unprivileged user.
    public static func share(_ directory: String, readable: [String] = [], with user: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let chown = try Run.program("/bin/chown", ["-R", user, directory])
        guard chown.status == 0 else {
            throw TestServerError(description: "chown \(user) \(directory): \(chown.stderr)")
        }
        for path in [directory] + readable {
            var parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
            while parent.hasPrefix("/tmp/") {
                var status = stat()
                if stat(parent, &status) == 0 { chmod(parent, (status.st_mode & 0o7777) | 0o055) }
                parent = URL(fileURLWithPath: parent).deletingLastPathComponent().path
            }
            if path.hasPrefix("/tmp/") && FileManager.default.fileExists(atPath: path) {
                _ = try Run.program("/bin/chmod", ["-R", "a+rX", path])
            }
        }
    }
}

/// procmail as an MTA runs it, with examples/procmail/procmailrc.
public enum Procmail {
    /// Runs `procmail -p -m RCFILE` on `message`, RCFILE being the snippet with `command`,
    /// `spool` and `config` in place of route's path, `--spool` and `--config`, and
    /// `environment` (the MTA's: RECIPIENT, SENDER…) added to the test's. procmail's exit code
    /// is what the MTA would see.
    public static func deliver(
        _ message: String, command: String, spool: String, config: String = "/etc/postroom/postroom.conf",
        environment: [String: String]
    ) throws -> ProcessResult {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/procmail") else {
            throw TestServerError(description: "/usr/bin/procmail is missing; run make test-deps")
        }
        let directory = TemporaryDirectory("procmail")
        let rcfile = directory.file("procmailrc")
        try write(rcfile, command: command, spool: spool, config: config)
        return try Run.program(
            "/usr/bin/procmail", ["-p", "-m", rcfile], input: Array(message.utf8), environment: environment)
    }

    /// Writes the snippet to `path` with `command`, `spool` and `config` in place of route's
    /// path, `--spool` and `--config`.
    public static func write(
        _ path: String, command: String, spool: String, config: String = "/etc/postroom/postroom.conf"
    ) throws {
        try Files.write(
            path,
            try Files.text(Files.repositoryPath("examples/procmail/procmailrc"))
                .replacingOccurrences(of: "/usr/local/libexec/postroom/route", with: command)
                .replacingOccurrences(of: "/var/spool/postroom", with: spool)
                .replacingOccurrences(of: "/etc/postroom/postroom.conf", with: config))
    }
}

/// A private MTA (Exim or Postfix) that pipes the list domain into a command, for the tests that
/// check both the same way.
public protocol PipingMTA {
    /// The domain piped into the command.
    static var listDomain: String { get }
    /// What the MTA calls a delivery the command accepted (`delivered`, `sent`).
    static var acceptedStatus: String { get }
    /// Sends a message over SMTP.
    func submit(from: String, to: [String], message: String) throws
    /// What became of `recipient`: accepted, `bounced` or `deferred`; nil if nothing yet.
    func status(of recipient: String, waitingUpTo seconds: Double) -> String?
    /// The queue listing.
    func queue() throws -> String
    /// The messages delivered locally (bounces to posters), waiting for `count`.
    func deliveredMessages(count: Int) throws -> [String]
    /// The MTA's log, for failure messages.
    var logText: String { get }
}

extension EximTestServer: PipingMTA {
    public static var acceptedStatus: String { "delivered" }
    public func deliveredMessages(count: Int) throws -> [String] { try delivered(count: count) }
    public var logText: String { mainLog() }
}

extension PostfixTestServer: PipingMTA {
    public static var acceptedStatus: String { "sent" }
    public func deliveredMessages(count: Int) throws -> [String] { try delivered(count: count) }
    public var logText: String { log() }
}
