import Glibc

/// One `tmp/new/cur` directory triple, as in maildir(5).
///
/// Writers create files in `tmp/`, fsync, then rename into `new/`; workers claim a file
/// by renaming it from `new/` into `cur/`. Renames are atomic, so a reader never sees a
/// partial file and two workers never both win the same claim.
public struct Maildir: Sendable {
    /// One of the three subdirectories.
    public enum Folder: String, Sendable, CaseIterable {
        /// Files being written; never read by workers.
        case tmp
        /// Complete files waiting for a worker.
        case new
        /// Files claimed by a worker, or finished (see `Spool`).
        case cur
    }

    /// The directory holding `tmp`, `new` and `cur`.
    public let path: String

    /// A maildir rooted at `path` (not created until `create()`).
    public init(path: String) {
        self.path = path
    }

    /// The path of a subdirectory.
    public func path(of folder: Folder) -> String { "\(path)/\(folder.rawValue)" }

    /// The path of a file in a subdirectory.
    public func path(of name: MessageName, in folder: Folder) -> String {
        "\(path)/\(folder.rawValue)/\(name.fileName)"
    }

    /// Creates the three subdirectories; existing ones are left alone.
    public func create(mode: mode_t = 0o750) throws(PostroomError) {
        try FileSystem.makeDirectories(path, mode: mode)
        for folder in Folder.allCases { try FileSystem.makeDirectory(path(of: folder), mode: mode) }
    }

    /// Whether all three subdirectories exist.
    public var exists: Bool {
        Folder.allCases.allSatisfy { FileSystem.status(path(of: $0)).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false }
    }

    /// The message files in `folder`, streamed.
    public func names(in folder: Folder) -> DirectoryStream {
        DirectoryStream(path: path(of: folder))
    }

    /// Writes `bytes` durably as `name` in `folder` (normally `new/`).
    ///
    /// The file is written in `tmp/`, fsynced, renamed into place and the directory
    /// fsynced, so once this returns the message survives a crash or power loss.
    /// `modificationTime` sets the file's mtime (deferred/ keeps the next attempt there).
    public func add(
        _ bytes: [UInt8], as name: MessageName, in folder: Folder = .new, modificationTime: Int? = nil
    ) throws(PostroomError) {
        let staged = try stage(bytes, as: name, modificationTime: modificationTime)
        try publish(staged, in: folder)
        try FileSystem.syncDirectory(path(of: folder))
    }

    /// Writes and fsyncs `bytes` into `tmp/`, not yet visible to readers.
    ///
    /// Call `publish(_:in:)` for each staged file and then sync the target directory
    /// once: a batch of files shares one directory fsync.
    public func stage(
        _ bytes: [UInt8], as name: MessageName, modificationTime: Int? = nil
    ) throws(PostroomError)
        -> MessageName
    {
        let temporary = path(of: name, in: .tmp)
        let fd = try FileSystem.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o640)
        do {
            try FileSystem.writeAll(fd, bytes, path: temporary)
            if let modificationTime {
                try FileSystem.setModificationTime(fd, seconds: modificationTime, path: temporary)
            }
            try FileSystem.sync(fd, path: temporary)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        return name
    }

    /// Renames a staged file from `tmp/` into `folder`. The caller syncs the directory.
    public func publish(_ name: MessageName, in folder: Folder = .new) throws(PostroomError) {
        let temporary = path(of: name, in: .tmp)
        let target = path(of: name, in: folder)
        if FileSystem.exists(target) {
            unlink(temporary)
            throw .cannotCreate(path: target, errno: EEXIST)
        }
        guard try FileSystem.rename(temporary, target) else {
            throw .io(operation: "publish", path: temporary, errno: ENOENT)
        }
    }

    /// Claims `new/NAME` for this process by renaming it into `cur/`.
    ///
    /// Returns nil when another worker got there first. The returned claim holds an
    /// exclusive `flock(2)` on the file for as long as it lives, which is how
    /// `recoverAbandonedClaims()` tells a working process from a dead one.
    public func claim(_ fileName: String) throws(PostroomError) -> Claim? {
        let name = MessageName(fileName: fileName)
        let source = path(of: name, in: .new)
        let target = path(of: name, in: .cur)
        guard try FileSystem.rename(source, target) else { return nil }
        return try Claim.lock(maildir: self, name: name)
    }

    /// Claims every file currently in `new/`, one at a time, in directory order.
    public func claims() -> some Sequence<Claim> {
        names(in: .new).lazy.compactMap { try? self.claim($0) }
    }

    /// Returns to `new/` the files in `cur/` whose claiming process is gone.
    ///
    /// A claim is abandoned when nobody holds its lock. Files marked done (flag `S`)
    /// are finished work kept for the record, not claims, and stay where they are.
    /// Returns the names that were returned to `new/`.
    @discardableResult
    public func recoverAbandonedClaims() throws(PostroomError) -> [MessageName] {
        var recovered: [MessageName] = []
        for fileName in try names(in: .cur).checked() {
            let name = MessageName(fileName: fileName)
            if name.has(Claim.doneFlag) { continue }
            guard let claim = try Claim.lock(maildir: self, name: name) else { continue }
            if try claim.release(to: self, folder: .new, syncing: false) { recovered.append(name) }
        }
        if !recovered.isEmpty {
            try FileSystem.syncDirectory(path(of: .new))
            try FileSystem.syncDirectory(path(of: .cur))
        }
        return recovered
    }

    /// Deletes files left in `tmp/` by writers that died, once they are older than `age` seconds.
    ///
    /// maildir(5) suggests 36 hours: long enough that no live writer is still busy with one.
    @discardableResult
    public func removeStaleTemporaryFiles(olderThan age: Int = 36 * 3600, now: Timestamp = .now()) -> Int {
        var removed = 0
        for fileName in names(in: .tmp) {
            let file = "\(path(of: .tmp))/\(fileName)"
            guard let info = FileSystem.status(file), info.st_mtim.tv_sec + age < now.seconds else { continue }
            if unlink(file) == 0 { removed += 1 }
        }
        return removed
    }
}
