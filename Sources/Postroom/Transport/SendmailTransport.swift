import Glibc

/// Delivery by piping each message into a sendmail-compatible program
/// (`/usr/sbin/sendmail -i -f SENDER -- RECIPIENT`), as Postfix, Exim and nullmailer provide.
///
/// The program's exit status is read like an SMTP reply: 0 sent, 75 (EX_TEMPFAIL) deferred,
/// anything else failed, with what it wrote to standard error as the reply.
public final class SendmailTransport: Transport {
    private let program: String

    /// A transport running `program`, which must be executable.
    public init(program: String) throws(PostroomError) {
        guard access(program, X_OK) == 0 else {
            throw .configuration(location: nil, reason: "--sendmail \(program) is not an executable program")
        }
        self.program = program
    }

    public func deliver(_ data: [UInt8], envelope: Envelope) -> DeliveryOutcome {
        let relay = "sendmail[\(program)]"
        let arguments = [program, "-i", "-f", envelope.sender ?? "<>", "--"] + envelope.recipients
        guard let run = Self.run(arguments, input: data) else {
            return .deferred(
                reply: "451 4.3.0 could not start \(program): \(PostroomError.describe(errno))", relay: relay,
                connectionFailed: true)
        }
        let detail = run.output.isEmpty ? "exit status \(run.status)" : "exit status \(run.status): \(run.output)"
        switch run.status {
        case 0: return .sent(reply: "250 2.0.0 accepted by \(FileSystem.baseName(program))", relay: relay)
        case Sysexit.tempFail.rawValue:
            return .deferred(reply: "451 4.3.0 \(detail)", relay: relay, connectionFailed: false)
        default: return .failed(reply: "550 5.3.0 \(detail)", relay: relay)
        }
    }

    public func close() {}

    /// Runs `arguments` with `input` on standard input; returns its status and standard error.
    private static func run(_ arguments: [String], input: [UInt8]) -> (status: Int32, output: String)? {
        var toChild: [Int32] = [-1, -1]
        var fromChild: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0 else { return nil }
        guard pipe(&fromChild) == 0 else {
            Glibc.close(toChild[0])
            Glibc.close(toChild[1])
            return nil
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], STDERR_FILENO)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], STDOUT_FILENO)
        for fd in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, fd) }
        var pid = pid_t()
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        Glibc.close(toChild[0])
        Glibc.close(fromChild[1])
        guard spawned == 0 else {
            Glibc.close(toChild[1])
            Glibc.close(fromChild[0])
            errno = spawned
            return nil
        }
        // A program that exits early must not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        OutputStream.writeAll(input, to: toChild[1])
        Glibc.close(toChild[1])
        let output = (try? FileSystem.readAll(fromChild[0], path: "sendmail output")) ?? []
        Glibc.close(fromChild[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let text = String(decoding: output.prefix(500), as: UTF8.self).split(whereSeparator: \.isNewline).joined(
            separator: " ")
        return (exitStatus, text)
    }
}
