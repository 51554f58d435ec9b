import CSystem
import Glibc

/// A file being written in a maildir's `tmp/`: the one way a spool file comes into being.
///
/// Invariant: while its writer lives and has not yet published it, a temporary file is locked
/// by that writer (a record lock on its open file description, which never conflicts with the
/// `flock(2)` of claims), so a sweep tells a live writer's file from a dead one's. A
/// leftover of the same name from a dead writer is taken over and rewritten, never an error:
/// names are unique per message and only the holder of a message's claim writes it.
struct TemporaryFile {
    /// Where it is.
    let path: String
    /// The open, locked descriptor.
    private(set) var fd: Int32

    /// The mode of every spool file.
    static let mode: mode_t = 0o640

    /// Creates `path` (or takes over a dead writer's leftover), locked, holding exactly `bytes`.
    /// Its data is not yet on disk: call `sync()`, or `startWriteback()` and later `syncData()`.
    ///
    /// The file gets the owner and group of `owner` (the file it is to replace), or else of its
    /// directory, so that a command run as root leaves nothing the spool's user cannot read.
    static func write(
        _ bytes: [UInt8], to path: String, modificationTime: Int? = nil, owner: stat? = nil
    ) throws(PostroomError)
        -> TemporaryFile
    {
        let fd = try openLocked(path)
        do throws(PostroomError) {
            if let owner {
                try FileSystem.adoptOwner(of: owner, fd: fd, path: path, mode: mode)
            } else {
                try FileSystem.adoptDirectoryOwner(fd: fd, path: path, mode: mode)
            }
            if ftruncate(fd, 0) != 0 { throw .io(operation: "truncate", path: path, errno: errno) }
            try FileSystem.writeAll(fd, bytes, path: path)
            if let modificationTime { try FileSystem.setModificationTime(fd, seconds: modificationTime, path: path) }
        } catch {
            unlink(path)
            Glibc.close(fd)
            throw error
        }
        return TemporaryFile(path: path, fd: fd)
    }

    /// Opens and locks `path`, creating it; retries when a sweep removed it between the two.
    private static func openLocked(_ path: String) throws(PostroomError) -> Int32 {
        while true {
            let fd = try FileSystem.open(path, O_RDWR | O_CREAT | O_NOFOLLOW, mode: mode)
            guard postroom_lock_for_writing(fd) == 0 else {
                let code = errno
                Glibc.close(fd)
                // Only a message's claim holder writes its name: a live lock means two holders.
                throw .cannotCreate(path: path, errno: code == EAGAIN || code == EACCES ? EBUSY : code)
            }
            if FileSystem.isSameFile(fd, path) { return fd }
            Glibc.close(fd)
        }
    }

    /// fsync: data and metadata on stable storage.
    func sync() throws(PostroomError) { try FileSystem.sync(fd, path: path) }

    /// Closes the descriptor, dropping the lock; nothing may rely on it after this.
    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Hands the descriptor (and its lock) to the caller; this value no longer owns it.
    mutating func takeDescriptor() -> Int32 {
        defer { fd = -1 }
        return fd
    }
}

extension Maildir {
    /// Removes files in `tmp/` whose writer is gone: nobody holds their lock and `keep` does not
    /// claim them. Returns the names removed.
    @discardableResult
    public func sweepTemporaryFiles(keeping keep: (MessageName) -> Bool = { _ in false }) -> [String] {
        var removed: [String] = []
        let directory = path(of: .tmp)
        for fileName in names(in: .tmp) {
            let file = directory + "/" + fileName
            let fd = Glibc.open(file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { Glibc.close(fd) }
            guard postroom_lock_for_writing(fd) == 0, !keep(MessageName(fileName: fileName)) else { continue }
            if FileSystem.isSameFile(fd, file) && unlink(file) == 0 { removed.append(fileName) }
        }
        return removed
    }
}
