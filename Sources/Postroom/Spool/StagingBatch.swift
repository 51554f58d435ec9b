import CSystem
import Glibc

/// Many spool files made durable together: write them all, sync them, then rename.
///
/// Each file's writeback starts as soon as it is written (`sync_file_range(2)`), and
/// each is `fdatasync`ed before anything is published, in chunks, so the journal commits
/// are shared instead of paid once per message, and only our own files are flushed.
/// Nothing is renamed into `new/` before its data is on disk; each target directory is
/// then fsynced once, and only after that are the batch's inputs (claimed files) removed,
/// so a crash leaves a message in one place or the other, never nowhere.
public final class StagingBatch {
    private struct Entry {
        let maildir: Maildir
        let name: MessageName
        let folder: Maildir.Folder
    }

    /// Files written but not yet synced are kept open, at most this many at a time.
    static let openLimit = 256

    private var entries: [Entry] = []
    private var unsynced: [(fd: Int32, path: String)] = []
    private var consumed: [Claim] = []

    /// An empty batch.
    public init() {}

    deinit { for file in unsynced { close(file.fd) } }

    /// How many files are staged.
    public var count: Int { entries.count }

    /// Writes `bytes` into the maildir's `tmp/` (not yet visible).
    ///
    /// A leftover file of the same name from an earlier, interrupted attempt is replaced.
    public func stage(
        _ bytes: [UInt8], as name: MessageName, in maildir: Maildir, folder: Maildir.Folder = .new,
        modificationTime: Int? = nil
    ) throws(PostroomError) {
        let path = maildir.path(of: name, in: .tmp)
        let fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o640)
        do throws(PostroomError) {
            try FileSystem.writeAll(fd, bytes, path: path)
            if let modificationTime { try FileSystem.setModificationTime(fd, seconds: modificationTime, path: path) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        _ = sync_file_range(fd, 0, 0, UInt32(POSTROOM_SYNC_FILE_RANGE_WRITE))
        unsynced.append((fd, path))
        entries.append(Entry(maildir: maildir, name: name, folder: folder))
        if unsynced.count >= Self.openLimit { try syncStaged() }
    }

    /// Adds a claimed file to remove once the batch is published (the input it replaces).
    public func consume(_ claim: Claim) {
        consumed.append(claim)
    }

    /// Makes every staged file durable, publishes them, then removes consumed claims.
    public func commit() throws(PostroomError) {
        try makeDurable()
        try publish()
    }

    /// Puts every staged file's data on stable storage.
    public func makeDurable() throws(PostroomError) {
        try syncStaged()
    }

    private func syncStaged() throws(PostroomError) {
        defer {
            for file in unsynced { close(file.fd) }
            unsynced.removeAll(keepingCapacity: true)
        }
        for file in unsynced where fdatasync(file.fd) != 0 {
            throw .io(operation: "fdatasync", path: file.path, errno: errno)
        }
    }

    /// Renames staged files into place, syncs their directories, then removes consumed claims.
    /// Call only after `makeDurable()`.
    public func publish() throws(PostroomError) {
        guard !entries.isEmpty || !consumed.isEmpty else { return }
        var directories = Set<String>()
        for entry in entries {
            let source = entry.maildir.path(of: entry.name, in: .tmp)
            let target = entry.maildir.path(of: entry.name, in: entry.folder)
            guard try FileSystem.rename(source, target) else {
                throw .io(operation: "publish", path: source, errno: ENOENT)
            }
            directories.insert(entry.maildir.path(of: entry.folder))
        }
        for directory in directories.sorted() { try FileSystem.syncDirectory(directory) }
        directories.removeAll()
        for claim in consumed {
            try FileSystem.removeFile(claim.path)
            claim.unlock()
            directories.insert(claim.maildir.path(of: .cur))
        }
        for directory in directories.sorted() { try FileSystem.syncDirectory(directory) }
        entries.removeAll()
        consumed.removeAll()
    }

    /// Removes staged files without publishing them (after an error); claims stay claimed.
    public func discard() {
        for file in unsynced { close(file.fd) }
        unsynced.removeAll()
        for entry in entries { unlink(entry.maildir.path(of: entry.name, in: .tmp)) }
        entries.removeAll()
        consumed.removeAll()
    }
}
