import CSystem
import Glibc

/// Runs a program to completion with posix_spawn, feeding standard input and collecting
/// standard output and error with poll(2) on the calling thread.
///
/// Foundation's Process waits through a shared monitoring thread and the pipes were drained on
/// Dispatch's global queue; with many tests running at once, a full suite once hung in there.
/// Here nothing is shared between runs: one thread, one child, waitpid at the end.
enum ChildProcess {
    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// A child that exits without reading its input must not kill the tests with SIGPIPE.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    static func run(
        _ path: String, _ arguments: [String], input: [UInt8], environment: [String: String]
    ) throws -> ProcessResult {
        ChildProcess.ignoreBrokenPipes
        var pipes: [[Int32]] = []
        for _ in 0..<3 {
            var ends: [Int32] = [-1, -1]
            guard pipe2(&ends, O_CLOEXEC) == 0 else {
                throw SpawnError(description: "pipe2: \(String(cString: strerror(errno)))")
            }
            pipes.append(ends)
        }
        let (stdinPipe, stdoutPipe, stderrPipe) = (pipes[0], pipes[1], pipes[2])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)

        let spawned = spawn(path, arguments, environment: environment, actions: &actions)
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] { close(fd) }
        let pid: pid_t
        switch spawned {
        case .success(let child): pid = child
        case .failure(let error):
            for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { close(fd) }
            throw SpawnError(description: "cannot run \(path): \(error)")
        }

        let (stdout, stderr) = exchange(input: input, stdin: stdinPipe[1], stdout: stdoutPipe[0], stderr: stderrPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // The wait status: low 7 bits the signal that ended it, else the exit code above them.
        let signal = status & 0x7f
        return ProcessResult(
            status: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Starts a program with standard input from /dev/null and both outputs into `output`;
    /// the caller waits for it. With `input`, standard input reads that file instead.
    static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String], output: String, input: String? = nil
    ) throws
        -> pid_t
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        switch spawn(path, arguments, environment: environment, actions: &actions) {
        case .success(let pid): return pid
        case .failure(let error): throw SpawnError(description: "cannot run \(path): \(error)")
        }
    }

    private struct SpawnFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// posix_spawn with default signal handling and nothing blocked in the child, whatever the
    /// test process set for itself (SIGPIPE ignored; the runner may ignore SIGTERM).
    private static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String],
        actions: inout posix_spawn_file_actions_t
    ) -> Result<pid_t, SpawnFailure> {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        var none = sigset_t()
        sigfillset(&all)
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        return spawned == 0 ? .success(pid) : .failure(SpawnFailure(description: String(cString: strerror(spawned))))
    }

    /// Writes `input` and reads both outputs until the child closes them; closes all three.
    private static func exchange(input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32) -> ([UInt8], [UInt8]) {
        var outputs: [Int32: [UInt8]] = [stdout: [], stderr: []]
        var open: Set<Int32> = [stdout, stderr]
        var written = 0
        var writer: Int32 = stdin
        if input.isEmpty {
            close(stdin)
            writer = -1
        } else {
            _ = fcntl(stdin, F_SETFL, fcntl(stdin, F_GETFL) | O_NONBLOCK)
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty || writer >= 0 {
            var descriptors = open.sorted().map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if writer >= 0 { descriptors.append(pollfd(fd: writer, events: Int16(POLLOUT), revents: 0)) }
            guard poll(&descriptors, nfds_t(descriptors.count), -1) >= 0 || errno == EINTR else { break }
            for descriptor in descriptors where descriptor.revents != 0 {
                if descriptor.fd == writer {
                    let count = input.withUnsafeBytes {
                        write(writer, $0.baseAddress.map { $0 + written }, input.count - written)
                    }
                    if count > 0 { written += count }
                    if count < 0 && errno != EAGAIN && errno != EINTR || written == input.count {
                        close(writer)
                        writer = -1
                    }
                } else {
                    let count = read(descriptor.fd, &buffer, buffer.count)
                    if count > 0 {
                        outputs[descriptor.fd, default: []] += buffer[..<count]
                    } else if count == 0 || errno != EINTR && errno != EAGAIN {
                        close(descriptor.fd)
                        open.remove(descriptor.fd)
                    }
                }
            }
        }
        return (outputs[stdout] ?? [], outputs[stderr] ?? [])
    }
}
