import Foundation
import Glibc

/// A real Postfix on 127.0.0.1, run from the tree `make postfix-tools` unpacks (Debian's postfix
/// conflicts with exim4) with a private configuration, queue and log in a temporary directory.
/// Mail for `listDomain` goes through the `pipe(8)` service of examples/postfix/master.cf and
/// main.cf, with the command, spool, configuration and user substituted; mail for `localDomains`
/// lands in one local maildir (`delivered`); anything else goes to the relay port, if given.
/// The master runs in the foreground and is killed by PID on release. Needs root.
public final class PostfixTestServer: @unchecked Sendable {
    /// The list domain the snippets name.
    public static let listDomain = "lists.example.org"
    /// The domain local(8) delivers when a mailbox command is given.
    public static let mailboxDomain = "mailbox.test"
    /// The port smtpd listens on.
    public let port: Int
    private let storage = TemporaryDirectory("postfix")
    private var master: ServerProcess?
    private let tools = Files.repositoryPath(".build/postfix-tools")

    /// Starts Postfix. `command`, `spool` and `config` replace route's path, `--spool` and
    /// `--config` in the snippet; the pipe runs `command` as `user`, who is given `spool` (see
    /// `Files.share`). With `mailboxCommand`, local(8) delivers mail for `mailboxDomain` to an
    /// existing user (such as nobody@mailbox.test) by running it as that user. Throws when
    /// Postfix is not unpacked or does not come up.
    public init(
        command: String, spool: String, config: String = "/etc/postroom/postroom.conf", user: String = "nobody",
        localDomains: [String] = ["member.test"], relayPort: Int? = nil, mailboxCommand: String? = nil
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: "\(tools)/usr/lib/postfix/sbin/master") else {
            throw TestServerError(description: "Postfix is not unpacked in \(tools); run make test-deps")
        }
        guard getuid() == 0 else { throw TestServerError(description: "a private Postfix needs root") }
        port = try LocalPort.free()
        let root = storage.path
        let conf = storage.file("conf")
        for directory in ["conf", "queue", "data", "mail"] {
            try FileManager.default.createDirectory(atPath: storage.file(directory), withIntermediateDirectories: true)
        }
        try Files.share(spool, readable: [command, config], with: user)
        let owner = try Run.program("/usr/bin/id", ["-u", user]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let group = try Run.program("/usr/bin/id", ["-g", user]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let snippets = try ["main.cf", "master.cf"].map { name in
            try Files.text(Files.repositoryPath("examples/postfix/\(name)"))
                .replacingOccurrences(of: "/usr/local/libexec/postroom/route", with: command)
                .replacingOccurrences(of: "/var/spool/postroom", with: spool)
                .replacingOccurrences(of: "/etc/postroom/postroom.conf", with: config)
                .replacingOccurrences(of: "user=postroom", with: "user=\(user)")
        }
        let main = """
            compatibility_level = 3.6
            config_directory = \(conf)
            meta_directory = \(conf)
            command_directory = \(tools)/usr/sbin
            daemon_directory = \(tools)/usr/lib/postfix/sbin
            shlib_directory = \(tools)/usr/lib/postfix
            sendmail_path = \(tools)/usr/sbin/sendmail
            queue_directory = \(root)/queue
            data_directory = \(root)/data
            mail_owner = postfix
            setgid_group = postdrop
            maillog_file = \(root)/maillog
            maillog_file_prefixes = \(root)
            import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH
            myhostname = postfix.test
            mydestination = \(mailboxCommand == nil ? "" : Self.mailboxDomain)
            \(mailboxCommand.map { "mailbox_command = \($0)" } ?? "")
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            # 127.0.0.1 is the internet here: no Message-Id or Date added to what it sends.
            local_header_rewrite_clients =
            alias_maps =
            alias_database =
            local_recipient_maps =
            virtual_mailbox_domains = \(localDomains.joined(separator: " "))
            virtual_mailbox_base = \(root)
            virtual_mailbox_maps = static:mail/
            virtual_uid_maps = static:\(owner)
            virtual_gid_maps = static:\(group)
            \(relayPort.map { "relayhost = [127.0.0.1]:\($0)" } ?? "default_transport = error:no relay in this test")

            """
        // The stock services, none chrooted (the queue holds no copy of /etc).
        let services = """
            127.0.0.1:\(port) inet n - n - - smtpd
            pickup unix n - n 60 1 pickup
            cleanup unix n - n - 0 cleanup
            qmgr unix n - n 300 1 qmgr
            rewrite unix - - n - - trivial-rewrite
            bounce unix - - n - 0 bounce
            defer unix - - n - 0 bounce
            trace unix - - n - 0 bounce
            verify unix - - n - 1 verify
            flush unix n - n 1000? 0 flush
            proxymap unix - - n - - proxymap
            smtp unix - - n - - smtp
            relay unix - - n - - smtp
            showq unix n - n - - showq
            error unix - - n - - error
            retry unix - - n - - error
            discard unix - - n - - discard
            virtual unix - n n - - virtual
            anvil unix - - n - 1 anvil
            scache unix - - n - 1 scache
            postlog unix-dgram n - n - 1 postlogd
            local unix - n n - - local

            """
        try Files.write("\(conf)/main.cf", main + snippets[0])
        try Files.write("\(conf)/master.cf", services + snippets[1])
        try FileManager.default.copyItem(atPath: "\(tools)/etc/postfix/postfix-files", toPath: "\(conf)/postfix-files")
        try FileManager.default.copyItem(
            atPath: "\(tools)/usr/share/postfix/dynamicmaps.cf", toPath: "\(conf)/dynamicmaps.cf")
        // Postfix's own users work in the queue, under our 0700 temporary directory.
        chmod(root, 0o755)
        for (owner, directory) in [("postfix", "data"), (user, "mail")] {
            let chown = try Run.program("/bin/chown", [owner, storage.file(directory)])
            guard chown.status == 0 else { throw TestServerError(description: "chown: \(chown.stderr)") }
        }
        // `postfix check` creates the queue's subdirectories with their owners and modes.
        let check = try postfix(["check"])
        guard check.status == 0 else {
            throw TestServerError(description: "postfix check failed: \(check.stderr)\(log())")
        }
        let master = try ServerProcess(
            "\(tools)/usr/lib/postfix/sbin/master", ["-c", conf, "-d"], environment: environment,
            output: storage.file("master.out"))
        self.master = master
        let port = self.port
        guard master.wait(until: { LocalPort.accepts(port) }) else {
            master.stop()
            throw TestServerError(
                description: "Postfix did not start: \((try? Files.text(storage.file("master.out"))) ?? "")\(log())")
        }
    }

    deinit { master?.stop() }

    private var environment: [String: String] { ["LD_LIBRARY_PATH": "\(tools)/usr/lib/postfix"] }

    private func postfix(_ arguments: [String], program: String = "postfix") throws -> ProcessResult {
        try Run.program(
            "\(tools)/usr/sbin/\(program)", ["-c", storage.file("conf")] + arguments, environment: environment)
    }

    /// `smtp://127.0.0.1:PORT`.
    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// Submits a message over SMTP (see `SMTPSubmission`).
    public func submit(from: String, to: [String], message: String) throws {
        try SMTPSubmission.send(port: port, from: from, to: to, message: message)
    }

    /// Postfix's mail log so far.
    public func log() -> String { (try? Files.text(storage.file("maillog"))) ?? "" }

    /// What Postfix last logged for a delivery attempt to `recipient` (`sent`, `bounced`,
    /// `deferred`), waiting up to `seconds` for one; nil when none came.
    public func status(of recipient: String, waitingUpTo seconds: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let lines = log().split(separator: "\n").filter { $0.contains(" to=<\(recipient)>,") }
            if let line = lines.last, let range = line.range(of: " status=") {
                return String(line[range.upperBound...].prefix { $0 != " " })
            }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return nil
    }

    /// The queue as `postqueue -j` reports it (one JSON object a line).
    public func queue() throws -> String {
        let result = try postfix(["-j"], program: "postqueue")
        guard result.status == 0 else { throw TestServerError(description: "postqueue: \(result.stderr)") }
        return result.stdout
    }

    /// The messages delivered into the local maildir (mail for `localDomains`, bounces to
    /// senders there), after waiting up to `seconds` for `count` of them.
    public func delivered(count: Int = 1, waitingUpTo seconds: Double = 10) throws -> [String] {
        let directory = storage.file("mail/new")
        let deadline = Date().addingTimeInterval(seconds)
        while Files.list(directory).count < count && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return try Files.list(directory).map { try Files.text("\(directory)/\($0)") }
    }
}
