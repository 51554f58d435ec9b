import Foundation
import Glibc

/// A real Exim (Debian's exim4-daemon-light) on 127.0.0.1 with a private configuration:
/// every recipient is accepted into a maildir, except local part `tempfail` (451) and
/// `reject` (550). With a pipe command, mail for `listDomain` goes through the router and
/// transport of examples/exim/ instead. Runs in the foreground on a port the OS picked;
/// killed on release.
public final class EximTestServer: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    private let storage = TemporaryDirectory("exim")
    private let process: Process

    /// Starts Exim; throws when it is not installed or does not come up. With
    /// `messagesPerConnection`, Exim answers 421 to the MAIL command after that many
    /// messages and closes the connection (`smtp_accept_max_per_connection`).
    public convenience init(messagesPerConnection: Int? = nil) throws {
        try self.init(messagesPerConnection: messagesPerConnection, pipe: nil)
    }

    /// The list domain the snippets name.
    public static let listDomain = "lists.example.org"

    /// Starts Exim routing `listDomain` into `command` through examples/exim/router and
    /// transport, with `command`, `spool` and `config` in place of route's path, `--spool` and
    /// `--config`, run as `user`, who is given `spool` (see `Files.share`). Exim gives up root
    /// for a configuration named by -C, so its own user is the only one it can run the pipe as.
    /// `routers` come after the snippet's router, before the one that accepts everything (a
    /// router that fails an address makes Exim bounce it).
    public convenience init(
        command: String, spool: String, config: String = "/etc/postroom/postroom.conf", user: String = "Debian-exim",
        routers: String = ""
    ) throws {
        try Files.share(spool, readable: [command, config], with: user)
        let snippets = try ["router", "transport"].map { name in
            try Files.text(Files.repositoryPath("examples/exim/\(name)"))
                .replacingOccurrences(of: "/usr/local/libexec/postroom/route", with: command)
                .replacingOccurrences(of: "/var/spool/postroom", with: spool)
                .replacingOccurrences(of: "/etc/postroom/postroom.conf", with: config)
                .replacingOccurrences(of: "user = postroom", with: "user = \(user)")
        }
        try self.init(messagesPerConnection: nil, pipe: (snippets[0] + "\n" + routers, snippets[1]))
    }

    private init(messagesPerConnection: Int?, pipe: (router: String, transport: String)?) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/exim4") else {
            throw TestServerError(description: "/usr/sbin/exim4 is missing; run make test-deps")
        }
        let root = storage.path
        func configuration(port: Int) -> String {
            """
            primary_hostname = exim.test
            domainlist local_domains = *
            exim_user = Debian-exim
            exim_group = Debian-exim
            never_users =
            spool_directory = \(root)/spool
            log_file_path = \(root)/log/%slog
            pid_file_path = \(root)/exim.pid
            daemon_smtp_ports = \(port)
            # A port taken between our pick and Exim's bind ends the daemon at once (not after
            # ten tries 30 s apart), so that a new port can be tried.
            daemon_startup_retries = 0
            local_interfaces = 127.0.0.1
            acl_smtp_rcpt = check_rcpt
            tls_advertise_hosts =
            log_selector = +smtp_connection
            smtp_accept_queue_per_connection = 0
            \(messagesPerConnection.map { "smtp_accept_max_per_connection = \($0)" } ?? "")

            begin acl
            check_rcpt:
              defer   local_parts = tempfail
                      message = 4.3.0 try again later
              deny    local_parts = reject
                      message = 5.1.1 no such user here
              accept

            begin routers
            \(pipe?.router ?? "")
            everything:
              driver = accept
              transport = local_maildir

            begin transports
            local_maildir:
              driver = appendfile
              directory = \(root)/mail
              maildir_format
              create_directory
              # Who each copy was for and its envelope sender, as a mail store sees them.
              envelope_to_add
              return_path_add
              user = Debian-exim
              group = Debian-exim

            \(pipe?.transport ?? "")

            # Without a rule Exim gives up on a deferred address at once.
            begin retry
            *  *  F,1d,1h

            """
        }
        for directory in ["spool", "log", "mail"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        // Exim works as its own user, which must reach its spool through our 0700 temporary
        // directory, and it refuses a configuration that others may write.
        chmod(root, 0o755)
        let chown = try Run.program(
            "/bin/chown", ["-R", "Debian-exim:Debian-exim", "\(root)/spool", "\(root)/log", "\(root)/mail"])
        guard chown.status == 0 else { throw TestServerError(description: "chown: \(chown.stderr)") }
        // The port is free when picked, but another test's connection may take it before Exim
        // binds it: then Exim exits and a new port is tried.
        var failure = ""
        for _ in 0..<5 {
            let port = try LocalPort.free()
            try Files.write("\(root)/exim.conf", configuration(port: port))
            chmod("\(root)/exim.conf", 0o644)
            let (process, _) = try Run.start(
                "/usr/sbin/exim4", ["-C", "\(root)/exim.conf", "-bdf", "-oX", String(port)])
            // Wait for the listening socket rather than for a fixed time.
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning && !LocalPort.accepts(port) && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            if process.isRunning && LocalPort.accepts(port) {
                self.port = port
                self.process = process
                return
            }
            let state = process.isRunning ? "not listening after 20 s" : "exited"
            Run.kill9(process)
            let logs = ["mainlog", "paniclog"].compactMap { try? Files.text("\(root)/log/\($0)") }
            failure =
                "port \(port), \(state): "
                + logs.joined(separator: "\n")
        }
        throw TestServerError(description: "Exim did not start: \(failure)")
    }

    deinit { Run.kill9(process) }

    /// `smtp://127.0.0.1:PORT`.
    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// The messages Exim delivered into its maildir (Exim delivers right after accepting).
    public func delivered(waitingUpTo seconds: Double = 10, count: Int = 1) throws -> [String] {
        let directory = storage.file("mail/new")
        let deadline = Date().addingTimeInterval(seconds)
        while Files.list(directory).count < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return try Files.list(directory).map { try Files.text("\(directory)/\($0)") }
    }

    /// Submits a message over SMTP (see `SMTPSubmission`).
    public func submit(from: String, to: [String], message: String) throws {
        try SMTPSubmission.send(port: port, from: from, to: to, message: message)
    }

    /// What Exim last logged for a delivery attempt to `recipient` (`delivered`, `bounced`,
    /// `deferred`), waiting up to `seconds` for one; nil when none came.
    public func status(of recipient: String, waitingUpTo seconds: Double = 10) -> String? {
        let outcomes = [" => ": "delivered", " ** ": "bounced", " == ": "deferred"]
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            for line in mainLog().split(separator: "\n").reversed() {
                // "=> address R=…", or "=> localpart <address> R=…" for a local delivery.
                for (marker, outcome) in outcomes
                where line.contains("\(marker)\(recipient) ")
                    || line.contains(marker) && line.contains(" <\(recipient)> ")
                {
                    return outcome
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return nil
    }

    /// The messages waiting in Exim's queue, as `exim -bp` lists them.
    public func queue() throws -> String {
        let result = try Run.program("/usr/sbin/exim4", ["-C", storage.file("exim.conf"), "-bp"])
        guard result.status == 0 else { throw TestServerError(description: "exim -bp: \(result.stderr)") }
        return result.stdout
    }

    /// Runs the queue once, forcing every message in it (`exim -qff`), and waits for that run.
    public func runQueue() throws {
        let result = try Run.program("/usr/sbin/exim4", ["-C", storage.file("exim.conf"), "-qff"])
        guard result.status == 0 else { throw TestServerError(description: "exim -qff: \(result.stderr)") }
    }

    /// Exim's main log so far.
    public func mainLog() -> String {
        (try? Files.text(storage.file("log/mainlog"))) ?? ""
    }

    /// A port on 127.0.0.1 that nothing listens on (connections to it are refused) until someone binds it.
    public static func freePort() throws -> Int { try LocalPort.free() }
}
