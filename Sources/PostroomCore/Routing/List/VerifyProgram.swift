import CSystem
import Glibc

/// The `verify` program beside `route` (postroom-verify(8)), run for one post: route itself
/// links no crypto, so the DKIM and ARC checks happen in that child process.
///
/// The message goes in through an unnamed file (never a pipe, so neither side waits on the
/// other); the output is read within a time limit, after which the child is killed. Any failure
/// to run it, or a status other than 0, is temporary: route exits 75 and the MTA retries.
public struct VerifyProgram: Sendable {
    /// The program's path.
    public let path: String
    /// Its arguments, without the program name.
    public let arguments: [String]
    /// How long it may run, in milliseconds.
    public let timeLimitMilliseconds: Int
    /// A directory for the message's unnamed file (the spool's, which route may write).
    public let scratchDirectory: String

    /// A program from parts.
    public init(path: String, arguments: [String], timeLimitMilliseconds: Int, scratchDirectory: String) {
        self.path = path
        self.arguments = arguments
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.scratchDirectory = scratchDirectory
    }

    /// The program next to the running executable, with the DNS settings of `configuration`
    /// (`dns_server`, `dns_timeout`); its time limit allows ten lookups and five seconds more.
    public static func configured(_ configuration: Configuration, spool: Spool) throws(PostroomError) -> VerifyProgram {
        let resolver = try DNSResolver.configured(configuration)
        let timeout = resolver.timeoutMilliseconds
        var arguments = ["--dns-timeout", "\(timeout / 1000).\(String(1000 + timeout % 1000).dropFirst())"]
        if let server = resolver.server { arguments += ["--dns-server", server.description] }
        if let path = configuration.path { arguments += ["--config", path] }
        return VerifyProgram(
            path: try locate(), arguments: arguments, timeLimitMilliseconds: timeout * 10 + 5000,
            scratchDirectory: spool.maildir(.outgoing).path(of: .tmp))
    }

    /// `verify` in the running program's directory (`route` in libexec), else in
    /// `../libexec/postroom/` beside it (`postroom release`, in bin).
    static func locate() throws(PostroomError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else {
            throw .temporary("cannot find the verify program: /proc/self/exe: \(String(cString: strerror(errno)))")
        }
        let executable = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = executable.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(executable[..<$0]) } ?? "."
        let candidates = ["\(directory)/verify", "\(directory)/../libexec/postroom/verify"]
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw .temporary(
                "the verify program is missing (looked for \(candidates.joined(separator: " and "))); install it with make install"
            )
        }
        return found
    }

    /// Runs the program over `message` and reads its report.
    public func run(_ message: [UInt8]) throws(PostroomError) -> VerifyReport {
        let input = try Self.unnamedFile(holding: message, in: scratchDirectory)
        defer { close(input) }
        var output: [Int32] = [-1, -1]
        guard pipe2(&output, O_CLOEXEC) == 0 else {
            throw .temporary("cannot run \(path): pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input, STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, output[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, output[1], STDERR_FILENO)
        posix_spawn_file_actions_addclose(&actions, output[0])
        posix_spawn_file_actions_addclose(&actions, output[1])
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(output[1])
        guard spawned == 0 else {
            close(output[0])
            throw .temporary("cannot run \(path): \(String(cString: strerror(spawned)))")
        }
        let (text, finished) = Self.read(output[0], milliseconds: timeLimitMilliseconds)
        close(output[0])
        if !finished { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let said = String(decoding: text, as: UTF8.self)
        guard finished else {
            throw .temporary("\(path) did not finish within \(timeLimitMilliseconds) ms and was killed")
        }
        guard status == 0 else {
            let how = (status & 0x7f) == 0 ? "exited \((status >> 8) & 0xff)" : "was killed by signal \(status & 0x7f)"
            let words = said.split(whereSeparator: \.isNewline).joined(separator: " ")
            throw .temporary("\(path) \(how): \(words.isEmpty ? "no output" : words)")
        }
        guard let report = VerifyReport(parsing: said) else {
            throw .temporary("\(path) printed what route cannot read: \(said.escapingControls)")
        }
        return report
    }

    /// A file without a name (made and unlinked at once, close-on-exec) holding `bytes`, at
    /// offset 0; in /tmp when `directory` does not exist (`route --explain` with no spool).
    static func unnamedFile(holding bytes: [UInt8], in directory: String) throws(PostroomError) -> Int32 {
        var fd: Int32 = -1
        for place in [directory, "/tmp"] {
            var template = Array("\(place)/verify.XXXXXX".utf8CString)
            fd = mkstemp(&template)
            if fd >= 0 {
                unlink(template)
                break
            }
            guard errno == ENOENT else { break }
        }
        guard fd >= 0 else { throw .io(operation: "create a file for verify in", path: directory, errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        do throws(PostroomError) {
            try FileSystem.writeAll(fd, bytes, path: directory)
        } catch {
            close(fd)
            throw error
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else {
            let code = errno
            close(fd)
            throw .io(operation: "seek in a file for verify in", path: directory, errno: code)
        }
        return fd
    }

    /// Reads `fd` to its end within `milliseconds`; keeps at most 64 KiB. `finished` is false on timeout.
    static func read(_ fd: Int32, milliseconds: Int) -> (bytes: [UInt8], finished: Bool) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Timestamp.now().interval + Double(milliseconds) / 1000
        while true {
            let left = Int32(max(0, min(Double(Int32.max), (deadline - Timestamp.now().interval) * 1000)))
            guard left > 0 else { return (out, false) }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, left)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return (out, ready == 0 ? false : true) }
            let count = Glibc.read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return (out, true) }
            if out.count < 65536 { out += buffer[..<count] }
        }
    }
}
