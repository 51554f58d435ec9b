#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, throwing wrappers over the system calls the spool relies on.
///
/// Foundation's FileManager hides errno and fsync; the spool needs both, so it talks
/// to the C library directly and reports every failure with the path it concerns.
package enum FileSystem {
    /// Opens `path`, retrying on EINTR.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o640) throws(PostroomError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            let code = errno
            if code == EINTR { continue }
            if flags & O_CREAT != 0 { throw .cannotCreate(path: path, errno: code) }
            // A file that cannot be read is missing input; one that cannot be written is not.
            let writing = flags & O_ACCMODE != O_RDONLY
            if code == ENOENT || (code == EACCES && !writing) {
                throw .missingInput(path: path, reason: PostroomError.describe(code))
            }
            throw .io(operation: writing ? "open for writing" : "open", path: path, errno: code)
        }
    }

    /// Writes every byte of `bytes`, looping over short writes.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(PostroomError) {
        guard var cursor = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(fd, cursor, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            cursor += written
            remaining -= written
        }
    }

    /// Writes every byte of `bytes`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(PostroomError) {
        let failure: PostroomError? = bytes.withUnsafeBytes { buffer in
            do throws(PostroomError) { try writeAll(fd, buffer, path: path) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Flushes a file's data and metadata to stable storage.
    static func sync(_ fd: Int32, path: String) throws(PostroomError) {
        if fsync(fd) != 0 { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    /// Makes renames and creations inside `directory` durable.
    package static func syncDirectory(_ directory: String) throws(PostroomError) {
        let fd = try open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: directory)
    }

    /// Renames atomically; returns false when the source is gone (a lost race).
    @discardableResult
    static func rename(_ source: String, _ target: String) throws(PostroomError) -> Bool {
        if Glibc.rename(source, target) == 0 { return true }
        let code = errno
        if code == ENOENT {
            // Distinguish a vanished source from a missing target directory.
            if exists(source) || !exists(parent(of: target)) {
                throw .io(operation: "rename to \(target)", path: source, errno: code)
            }
            return false
        }
        throw .io(operation: "rename to \(target)", path: source, errno: code)
    }

    /// Reads the whole file at `fd` from its current offset; with `stopAt`, stops once that
    /// many bytes are read (a file known not to grow needs no read to see its end).
    static func readAll(
        _ fd: Int32, path: String, sizeHint: Int = 0, stopAt: Int? = nil
    ) throws(PostroomError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(max(sizeHint, 4096))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while stopAt.map({ result.count < $0 }) ?? true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// Reads a whole file.
    package static func readFile(_ path: String) throws(PostroomError) -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        return try readAll(fd, path: path, sizeHint: Int(status(fd: fd)?.st_size ?? 0))
    }

    /// Creates `path` with `bytes` and `mode`, never over an existing file (`O_EXCL`: EEXIST is
    /// `.cannotCreate`, exit 73), and makes the file and its name durable before returning.
    package static func createExclusively(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(PostroomError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        do throws(PostroomError) {
            try writeAll(fd, bytes, path: path)
            try sync(fd, path: path)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { $0 == path.utf8.startIndex ? "/" : String(path[..<$0]) } ?? "."
        try syncDirectory(directory)
    }

    /// Gives the file open as `fd`, which this process just created or rewrote at `path`, the
    /// owner and group of `reference` (the file it replaces, or the directory it is in) and, when
    /// they differed, `mode` rather than what this process's umask left.
    ///
    /// An operator command run as root, or as another member of the spool's group, must not
    /// leave a file the spool's own user cannot open. Only root may give a file away; any other
    /// user can at most change the group to one of its own, so EPERM is then not an error. A
    /// file that already has the reference's owner and group is left as it is (one `fstat`).
    package static func adoptOwner(
        of reference: stat, fd: Int32, path: String, mode: mode_t
    ) throws(PostroomError) {
        guard let current = status(fd: fd) else { throw .io(operation: "stat", path: path, errno: errno) }
        guard current.st_uid != reference.st_uid || current.st_gid != reference.st_gid else { return }
        let isRoot = geteuid() == 0
        let givesAway = isRoot && current.st_uid != reference.st_uid
        // -1 (uid_t.max) leaves the owner as it is.
        if givesAway || current.st_gid != reference.st_gid,
            fchown(fd, givesAway ? reference.st_uid : uid_t.max, reference.st_gid) != 0,
            isRoot || errno != EPERM
        {
            throw .io(operation: "change the owner of", path: path, errno: errno)
        }
        try setMode(fd: fd, path: path, mode: mode, current: current)
    }

    /// Sets the mode of the file open as `fd` when it differs (a umask may have taken bits
    /// away); EPERM (another user's file) is not an error unless this process is root.
    package static func setMode(fd: Int32, path: String, mode: mode_t, current: stat? = nil) throws(PostroomError) {
        guard let current = current ?? status(fd: fd) else { throw .io(operation: "stat", path: path, errno: errno) }
        if current.st_mode & 0o7777 != mode && fchmod(fd, mode) != 0 && (geteuid() == 0 || errno != EPERM) {
            throw .io(operation: "change the mode of", path: path, errno: errno)
        }
    }

    /// `adoptOwner(of:fd:path:mode:)` with the owner and group of the directory holding `path`.
    package static func adoptDirectoryOwner(fd: Int32, path: String, mode: mode_t) throws(PostroomError) {
        let directory = parent(of: path)
        guard let reference = status(directory) else {
            throw .io(operation: "stat", path: directory, errno: errno)
        }
        try adoptOwner(of: reference, fd: fd, path: path, mode: mode)
    }

    /// Opens `path`, creating it when it does not exist with `mode` whatever the umask, owned
    /// like its directory (see `adoptOwner`). An existing file is opened as it is.
    package static func openCreatingOwned(_ path: String, _ flags: Int32, mode: mode_t) throws(PostroomError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC)
            if fd >= 0 { return fd }
            let code = errno
            if code == EINTR { continue }
            // Any other failure than a missing file: `open` reports it (or opens what appeared meanwhile).
            guard code == ENOENT else { return try open(path, flags) }
            let created = Glibc.open(path, flags | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            if created < 0 {
                if errno == EEXIST || errno == EINTR { continue }  // someone else created it first
                throw .cannotCreate(path: path, errno: errno)
            }
            do throws(PostroomError) {
                try adoptDirectoryOwner(fd: created, path: path, mode: mode)
                try setMode(fd: created, path: path, mode: mode)
            } catch {
                close(created)
                throw error
            }
            return created
        }
    }

    /// Creates a directory unless it exists already as a directory. With `adoptingOwner`, a
    /// directory created gets the owner and group of the one it is in (see `adoptOwner`).
    static func makeDirectory(_ path: String, mode: mode_t = 0o750, adoptingOwner: Bool = false) throws(PostroomError) {
        if mkdir(path, mode) == 0 {
            guard adoptingOwner else { return }
            let fd = try open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            defer { close(fd) }
            try adoptDirectoryOwner(fd: fd, path: path, mode: mode)
            return
        }
        let code = errno
        if code == EEXIST, let info = status(path) {
            if info.st_mode & S_IFMT == S_IFDIR { return }
            throw .cannotCreate(path: path, errno: ENOTDIR)
        }
        throw .cannotCreate(path: path, errno: code)
    }

    /// Creates a directory and its missing parents (with `adoptingOwner`, each gets the owner
    /// and group of the one it is in).
    static func makeDirectories(
        _ path: String, mode: mode_t = 0o750, adoptingOwner: Bool = false
    )
        throws(PostroomError)
    {
        if let info = status(path), info.st_mode & S_IFMT == S_IFDIR { return }
        let up = parent(of: path)
        if up != path && !up.isEmpty { try makeDirectories(up, mode: mode, adoptingOwner: adoptingOwner) }
        try makeDirectory(path, mode: mode, adoptingOwner: adoptingOwner)
    }

    /// Removes a file; one that is already gone is not an error.
    package static func removeFile(_ path: String) throws(PostroomError) {
        if unlink(path) != 0 && errno != ENOENT { throw .io(operation: "remove", path: path, errno: errno) }
    }

    /// `stat(2)` of a path, or nil when it does not exist.
    package static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// `fstat(2)` of an open file.
    package static func status(fd: Int32) -> stat? {
        var info = stat()
        return fstat(fd, &info) == 0 ? info : nil
    }

    /// Whether `path` still names the file open as `fd` (a lock taken on a file that was
    /// renamed or removed meanwhile protects nothing).
    static func isSameFile(_ fd: Int32, _ path: String) -> Bool {
        guard let held = status(fd: fd), let current = status(path) else { return false }
        return held.st_ino == current.st_ino && held.st_dev == current.st_dev
    }

    /// Whether anything exists at `path`.
    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The directory part of a path ("." for a bare name).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last component of a path.
    package static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `UTIME_OMIT` from <sys/stat.h>, which Swift does not import.
    private static let utimeOmit = (1 << 30) - 2

    /// Sets a file's modification time to now: when a message moves into `sent/`, the time it
    /// was sent (renames keep it, where they change the ctime).
    static func stampModificationTime(_ fd: Int32, path: String) throws(PostroomError) {
        var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1)]
        if futimens(fd, &times) != 0 { throw .io(operation: "set the time of", path: path, errno: errno) }
    }

    /// Sets a file's modification time, which deferred/ uses as the next-attempt time.
    static func setModificationTime(_ fd: Int32, seconds: Int, path: String) throws(PostroomError) {
        var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), timespec(tv_sec: seconds, tv_nsec: 0)]
        if futimens(fd, &times) != 0 { throw .io(operation: "set the time of", path: path, errno: errno) }
    }
}

/// Wall-clock time with microseconds, from `clock_gettime`.
public struct Timestamp: Sendable, Comparable {
    /// Seconds since the Unix epoch.
    public var seconds: Int
    /// Microseconds within the second.
    public var microseconds: Int

    /// Creates a timestamp.
    public init(seconds: Int, microseconds: Int = 0) {
        self.seconds = seconds
        self.microseconds = microseconds
    }

    /// The current time.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(seconds: spec.tv_sec, microseconds: spec.tv_nsec / 1000)
    }

    /// Seconds as a floating-point number.
    public var interval: Double { Double(seconds) + Double(microseconds) / 1_000_000 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.microseconds) < (rhs.seconds, rhs.microseconds)
    }
}
