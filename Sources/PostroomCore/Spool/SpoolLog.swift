import Glibc
import Synchronization

/// The spool's audit trail: one line per state change, appended to `log` and echoed on stderr.
///
/// Lines look like Postfix's, so the same grep habits work:
/// `2026-11-22T08:18:09.123456Z host deliver[812]: NAME: to=<a@b>, relay=..., status=sent (250 ok)`.
/// Each line goes out in one `write(2)` on an `O_APPEND` descriptor, so lines from
/// concurrent processes never interleave.
///
/// A line that cannot be appended (disk full, I/O error) is never lost silently: it goes
/// to stderr with the reason, and the next `sync()` throws, so the stage exits non-zero
/// once its mail is where it belongs.
public final class SpoolLog: @unchecked Sendable {
    /// The log file's path, or nil when logging only to stderr (filter mode).
    public let path: String?
    /// The program name written into each line.
    public let program: String
    /// Whether lines are echoed on standard error.
    public let echo: Bool
    private let host: String
    private let processID = getpid()
    private var fd: Int32 = -1
    // Workers of one stage may log from several threads.
    private let pendingSync = Atomic<Bool>(false)
    // The errno of the first append that failed since the last sync (0: none).
    private let failedAppend = Atomic<Int32>(0)

    /// Opens `path` for appending (created if missing); nil logs to stderr only.
    public init(path: String?, program: String, echo: Bool = true) throws(PostroomError) {
        self.path = path
        self.program = program
        self.echo = echo
        self.host = MessageNameGenerator.systemHostName()
        // A log a command run as root creates must stay writable for the spool's own user.
        if let path { fd = try FileSystem.openCreatingOwned(path, O_WRONLY | O_APPEND, mode: 0o640) }
    }

    deinit {
        if fd >= 0 {
            if pendingSync.load(ordering: .relaxed) { fsync(fd) }
            close(fd)
        }
    }

    /// Records one event about message `name` (or about the run, when nil).
    ///
    /// `echo` overrides whether this line also goes to stderr (per-job lines stay in the
    /// file when a progress bar is showing). `fields` become `key=value` pairs in order; `status` and `detail` end the line as
    /// `status=sent (250 ok)`. Line breaks inside values are flattened to spaces.
    public func record(
        _ name: MessageName?, _ fields: KeyValuePairs<String, String> = [:], status: String? = nil,
        detail: String? = nil, at time: Timestamp = .now(), echo: Bool? = nil
    ) {
        record(name, fieldList: Array(fields), status: status, detail: detail, at: time, echo: echo)
    }

    /// `record` with fields chosen at run time.
    public func record(
        _ name: MessageName?, fieldList fields: [(key: String, value: String)], status: String? = nil,
        detail: String? = nil, at time: Timestamp = .now(), echo: Bool? = nil
    ) {
        var line = "\(Self.isoTime(time)) \(host) \(program)[\(processID)]: "
        if let name { line += "\(name.base): " }
        var parts: [String] = fields.map { "\($0.key)=\($0.value)" }
        if let status { parts.append("status=\(status)") }
        line += parts.joined(separator: ", ")
        if let detail { line += parts.isEmpty ? detail : " (\(detail))" }
        line = Self.flatten(line) + "\n"
        let bytes = Array(line.utf8)
        if fd >= 0 {
            let code = Self.append(bytes, to: fd)
            pendingSync.store(true, ordering: .relaxed)
            if code != 0 {
                _ = failedAppend.compareExchange(expected: 0, desired: code, ordering: .relaxed)
                let warning =
                    "\(program): cannot append to \(path ?? "the log") (\(PostroomError.describe(code))); the line: "
                _ = Self.append(Array(warning.utf8) + bytes, to: STDERR_FILENO)
                return
            }
        }
        if echo ?? self.echo { _ = Self.append(bytes, to: STDERR_FILENO) }
    }

    /// Writes all of `bytes`, retrying short writes and EINTR; returns 0 or the errno.
    private static func append(_ bytes: [UInt8], to fd: Int32) -> Int32 {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if written == 0 { return EIO }
            offset += written
        }
        return 0
    }

    /// Flushes the log to stable storage; stages call this before they exit 0.
    ///
    /// Throws if a line could not be appended since the last sync (it went to stderr) or the
    /// flush fails. Call it where a non-zero exit makes someone retry work that is idempotent
    /// (a stage over the spool); see `syncReportingFailure()` for the other places.
    public func sync() throws(PostroomError) {
        let lost = failedAppend.exchange(0, ordering: .relaxed)
        if lost != 0 { throw .io(operation: "append to", path: path ?? "the log", errno: lost) }
        guard fd >= 0, pendingSync.load(ordering: .relaxed), let path else { return }
        try FileSystem.sync(fd, path: path)
        pendingSync.store(false, ordering: .relaxed)
    }

    /// `sync()`, with `directories` synced at the same time (route: the queues its copies were
    /// just renamed into). The directories are synced even when a line was lost.
    public func sync(together directories: [String]) throws(PostroomError) {
        let lost = failedAppend.exchange(0, ordering: .relaxed)
        var groups: [[ConcurrentSync.Target]] = directories.map { [.directory($0)] }
        let logging = lost == 0 && fd >= 0 && pendingSync.load(ordering: .relaxed) && path != nil
        if logging, let path { groups.append([.file(fd: fd, path: path, dataOnly: false)]) }
        try ConcurrentSync.run(groups)
        if logging { pendingSync.store(false, ordering: .relaxed) }
        if lost != 0 { throw .io(operation: "append to", path: path ?? "the log", errno: lost) }
    }

    /// Syncs, reporting a failure on stderr instead of throwing: for commands whose work is
    /// already durable and whose non-zero exit would make the caller do it again (`submit`
    /// writing a request: a retry would send the mailing twice).
    public func syncReportingFailure() {
        do throws(PostroomError) {
            try sync()
        } catch {
            _ = Self.append(Array("\(program): warning: \(error.description)\n".utf8), to: STDERR_FILENO)
        }
    }

    /// `2026-11-22T08:18:09.123456Z`.
    public static func isoTime(_ time: Timestamp) -> String {
        var seconds = time_t(time.seconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let micro = String(time.microseconds)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: max(0, 6 - micro.count)) + micro + "Z"
    }

    private static func flatten(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 10 || $0 == 13 }) else { return text }
        return String(text.map { $0.isNewline ? " " : $0 })
    }
}
