import Foundation
import Glibc

/// A real Exim (Debian's exim4-daemon-light) on 127.0.0.1 with a private configuration:
/// every recipient is accepted into a maildir, except local part `tempfail` (451) and
/// `reject` (550). Runs in the foreground on a port the OS picked; killed on release.
public final class EximTestServer: @unchecked Sendable {
    /// The port it listens on.
    public let port: Int
    private let storage = TemporaryDirectory("exim")
    private let process: Process

    /// Starts Exim; throws when it is not installed or does not come up. With
    /// `messagesPerConnection`, Exim answers 421 to the MAIL command after that many
    /// messages and closes the connection (`smtp_accept_max_per_connection`).
    public init(messagesPerConnection: Int? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/exim4") else {
            throw TestServerError(description: "/usr/sbin/exim4 is missing; run make test-deps")
        }
        port = try LocalPort.free()
        let root = storage.path
        let config = """
            primary_hostname = exim.test
            domainlist local_domains = *
            exim_user = Debian-exim
            exim_group = Debian-exim
            never_users =
            spool_directory = \(root)/spool
            log_file_path = \(root)/log/%slog
            pid_file_path = \(root)/exim.pid
            daemon_smtp_ports = \(port)
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
            everything:
              driver = accept
              transport = local_maildir

            begin transports
            local_maildir:
              driver = appendfile
              directory = \(root)/mail
              maildir_format
              create_directory
              user = Debian-exim
              group = Debian-exim

            """
        for directory in ["spool", "log", "mail"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        try Files.write("\(root)/exim.conf", config)
        // Exim works as its own user, which must reach its spool through our 0700 temporary
        // directory, and it refuses a configuration that others may write.
        chmod(root, 0o755)
        let chown = try Run.program(
            "/bin/chown", ["-R", "Debian-exim:Debian-exim", "\(root)/spool", "\(root)/log", "\(root)/mail"])
        guard chown.status == 0 else { throw TestServerError(description: "chown: \(chown.stderr)") }
        chmod("\(root)/exim.conf", 0o644)
        (process, _) = try Run.start("/usr/sbin/exim4", ["-C", "\(root)/exim.conf", "-bdf", "-oX", String(port)])
        // Wait for the listening socket rather than for a fixed time.
        let deadline = Date().addingTimeInterval(10)
        while !LocalPort.accepts(port) {
            guard Date() < deadline, process.isRunning else {
                Run.kill9(process)
                throw TestServerError(
                    description: "Exim did not start: \((try? Files.text("\(root)/log/paniclog")) ?? "")")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
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

    /// Exim's main log so far.
    public func mainLog() -> String {
        (try? Files.text(storage.file("log/mainlog"))) ?? ""
    }

    /// A port on 127.0.0.1 that nothing listens on (connections to it are refused) until someone binds it.
    public static func freePort() throws -> Int { try LocalPort.free() }
}
