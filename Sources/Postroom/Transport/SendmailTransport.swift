import Glibc

/// Delivery by piping each message into a sendmail-compatible program
/// (`/usr/sbin/sendmail -i -f SENDER -- RECIPIENT`), as Postfix, Exim and nullmailer provide.
///
/// The program's exit status is read like an SMTP reply: 0 sent, 75 (EX_TEMPFAIL) or death by
/// a signal deferred, any other status failed, with what it wrote as the reply. A loopback
/// recipient is one more argument: the program takes or refuses the message as a whole, so
/// when it exits 0 the loopback copy counts as sent.
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
        let arguments =
            [program, "-i", "-f", envelope.sender ?? "<>", "--"] + envelope.recipients
            + (envelope.loopback.map { [$0] } ?? [])
        guard let run = Self.run(arguments, input: data) else {
            return .deferred(
                reply: "451 4.3.0 could not start \(program): \(PostroomError.describe(errno))", relay: relay,
                connectionFailed: true)
        }
        let output = run.output.isEmpty ? "" : ": \(run.output)"
        switch run.end {
        case .exited(0):
            return .sent(
                reply: "250 2.0.0 accepted by \(FileSystem.baseName(program))", relay: relay,
                loopback: envelope.loopback == nil ? .none : .sent)
        case .exited(Sysexit.tempFail.rawValue):
            return .deferred(reply: "451 4.3.0 exit status 75\(output)", relay: relay, connectionFailed: false)
        case .exited(let status): return .failed(reply: "550 5.3.0 exit status \(status)\(output)", relay: relay)
        case .signaled(let signal):
            // Killed (OOM killer, a timeout, an operator): nothing says the message is bad.
            return .deferred(
                reply: "451 4.3.0 killed by signal \(signal)\(output)", relay: relay, connectionFailed: false)
        }
    }

    public func close() {}

    /// How the program ended.
    private enum End {
        case exited(Int32)
        case signaled(Int32)
    }

    /// Runs `arguments` with `input` on standard input; returns how it ended and the start of
    /// what it wrote to standard output and standard error.
    private static func run(_ arguments: [String], input: [UInt8]) -> (end: End, output: String)? {
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
        let output = exchange(input, to: toChild[1], from: fromChild[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // The wait status: the low 7 bits name the signal that ended it, else the exit code is above them.
        let end: End = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
        let text = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
        return (end, text)
    }

    /// Writes `input` to `writer` while reading `reader` until the program closes it; closes both.
    /// Both at once: a program that writes more than a pipe holds before it reads its input
    /// would otherwise wait on us while we wait on it. Keeps the first 500 bytes read.
    private static func exchange(_ input: [UInt8], to writer: Int32, from reader: Int32) -> [UInt8] {
        var writer = writer
        var reading = true
        var written = 0
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        if input.isEmpty {
            Glibc.close(writer)
            writer = -1
        } else {
            _ = fcntl(writer, F_SETFL, fcntl(writer, F_GETFL) | O_NONBLOCK)
        }
        while reading || writer >= 0 {
            var descriptors = [pollfd(fd: reading ? reader : -1, events: Int16(POLLIN), revents: 0)]
            descriptors.append(pollfd(fd: writer, events: Int16(POLLOUT), revents: 0))
            guard poll(&descriptors, 2, -1) >= 0 || errno == EINTR else { break }
            if writer >= 0 && descriptors[1].revents != 0 {
                let count = input.withUnsafeBytes {
                    write(writer, $0.baseAddress.map { $0 + written }, input.count - written)
                }
                if count > 0 { written += count }
                // EPIPE: the program stopped reading; its exit status says what that meant.
                if (count < 0 && errno != EAGAIN && errno != EINTR) || written == input.count {
                    Glibc.close(writer)
                    writer = -1
                }
            }
            if reading && descriptors[0].revents != 0 {
                let count = read(reader, &buffer, buffer.count)
                if count > 0 {
                    output += buffer[..<min(count, max(0, 500 - output.count))]
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    reading = false
                }
            }
        }
        if writer >= 0 { Glibc.close(writer) }
        Glibc.close(reader)
        return output
    }
}
