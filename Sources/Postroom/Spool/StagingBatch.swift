import CSystem
import Glibc

/// Many spool files made durable together: write them all, one `syncfs(2)`, then rename.
///
/// Per-file fsync costs one journal commit per message; one syncfs covers the whole batch
/// with the same guarantee, because nothing is renamed into `new/` before its data is on
/// disk. Each target directory is then fsynced once, and only after that are the
/// batch's inputs (claimed files) removed, so a crash leaves a message in one place or
/// the other, never nowhere.
public final class StagingBatch {
    private struct Entry {
        let maildir: Maildir
        let name: MessageName
        let folder: Maildir.Folder
        let modificationTime: Int?
    }

    private var entries: [Entry] = []
    private var consumed: [Claim] = []

    /// An empty batch.
    public init() {}

    /// How many files are staged.
    public var count: Int { entries.count }

    /// Writes `bytes` into the maildir's `tmp/` (not yet synced or visible).
    ///
    /// A leftover file of the same name from an earlier, interrupted attempt is replaced.
    public func stage(
        _ bytes: [UInt8], as name: MessageName, in maildir: Maildir, folder: Maildir.Folder = .new,
        modificationTime: Int? = nil
    ) throws(PostroomError) {
        let path = maildir.path(of: name, in: .tmp)
        let fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o640)
        defer { close(fd) }
        do throws(PostroomError) {
            try FileSystem.writeAll(fd, bytes, path: path)
            if let modificationTime { try FileSystem.setModificationTime(fd, seconds: modificationTime, path: path) }
        } catch {
            unlink(path)
            throw error
        }
        entries.append(Entry(maildir: maildir, name: name, folder: folder, modificationTime: modificationTime))
    }

    /// Adds a claimed file to remove once the batch is published (the input it replaces).
    public func consume(_ claim: Claim) {
        consumed.append(claim)
    }

    /// Syncs every staged file, publishes them, syncs the directories, then removes consumed claims.
    ///
    /// `syncRoot` is any directory on the spool's file system.
    public func commit(syncRoot: String) throws(PostroomError) {
        try makeDurable(syncRoot: syncRoot)
        try publish()
    }

    /// Puts every staged file's data on stable storage with one `syncfs(2)`.
    public func makeDurable(syncRoot: String) throws(PostroomError) {
        guard !entries.isEmpty else { return }
        try Self.syncFileSystem(of: syncRoot)
    }

    /// `syncfs(2)` on the file system holding `path`.
    public static func syncFileSystem(of path: String) throws(PostroomError) {
        let fd = try FileSystem.open(path, O_RDONLY | O_DIRECTORY)
        let result = syncfs(fd)
        let code = errno
        close(fd)
        if result != 0 { throw .io(operation: "sync the file system of", path: path, errno: code) }
    }

    /// Renames staged files into place, syncs their directories, then removes consumed claims.
    /// Call only after `makeDurable(syncRoot:)`.
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
            if unlink(claim.path) != 0 && errno != ENOENT {
                throw .io(operation: "remove", path: claim.path, errno: errno)
            }
            claim.unlock()
            directories.insert(claim.maildir.path(of: .cur))
        }
        for directory in directories.sorted() { try FileSystem.syncDirectory(directory) }
        entries.removeAll()
        consumed.removeAll()
    }

    /// Removes staged files without publishing them (after an error); claims stay claimed.
    public func discard() {
        for entry in entries { unlink(entry.maildir.path(of: entry.name, in: .tmp)) }
        entries.removeAll()
        consumed.removeAll()
    }
}
