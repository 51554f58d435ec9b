import CSystem
import Glibc

/// Many spool files made durable together: write them all, sync them, then rename.
///
/// Each file's writeback starts as soon as it is written (`sync_file_range(2)`), and each is
/// `fdatasync`ed before anything is published, in chunks, so the journal commits are shared
/// instead of paid once per message, and only our own files are flushed. Nothing is renamed
/// into place before its data is on disk, and each target directory is then fsynced once.
///
/// A file that replaces a claim (a job becoming its message) is one state change of one file:
/// it is renamed over the claimed file first, then that file moves into the target, so a crash
/// leaves the claim holding either the input or the output, never both in two places.
public final class StagingBatch {
    private struct Entry {
        /// Open until synced (a replacement: until it takes its claim's place); a large batch
        /// of plain files keeps none of them, nor their paths.
        var file: TemporaryFile?
        let target: Maildir
        let name: MessageName
        let folder: Maildir.Folder
        /// The claim this file replaces, if any.
        let replacing: Claim?
        var synced = false
    }

    /// Files written but not yet synced are kept open, at most this many at a time.
    static let openLimit = 256

    private var entries: [Entry] = []
    private var unsynced = 0
    /// The status of each `tmp/` staged into, looked up once: new files take its owner.
    private var directoryOwners: [String: stat] = [:]

    /// An empty batch.
    public init() {}

    deinit { for index in entries.indices { entries[index].file?.close() } }

    /// How many files are staged.
    public var count: Int { entries.count }

    /// Writes `bytes` into the maildir's `tmp/` (not yet visible), to become `folder/NAME`.
    ///
    /// A leftover file of the same name from an earlier, interrupted attempt is replaced. Once
    /// synced, such a file is no longer locked: the caller's claim on its input protects it.
    public func stage(
        _ bytes: [UInt8], as name: MessageName, in maildir: Maildir, folder: Maildir.Folder = .new,
        modificationTime: Int? = nil
    ) throws(PostroomError) {
        try add(bytes, as: name, in: maildir, folder: folder, modificationTime: modificationTime, replacing: nil)
    }

    /// Writes `bytes` to replace `claim` and then move into `target`'s `folder`, keeping the name.
    public func stage(
        _ bytes: [UInt8], replacing claim: Claim, into target: Maildir, folder: Maildir.Folder = .new
    )
        throws(PostroomError)
    {
        try add(bytes, as: claim.name, in: target, folder: folder, modificationTime: nil, replacing: claim)
    }

    private func add(
        _ bytes: [UInt8], as name: MessageName, in maildir: Maildir, folder: Maildir.Folder, modificationTime: Int?,
        replacing claim: Claim?
    ) throws(PostroomError) {
        var owner = claim?.status
        if owner == nil {
            let directory = maildir.path(of: .tmp)
            if directoryOwners[directory] == nil { directoryOwners[directory] = FileSystem.status(directory) }
            owner = directoryOwners[directory]
        }
        let file = try TemporaryFile.write(
            bytes, to: maildir.path(of: name, in: .tmp), modificationTime: modificationTime, owner: owner)
        _ = sync_file_range(file.fd, 0, 0, UInt32(POSTROOM_SYNC_FILE_RANGE_WRITE))
        entries.append(Entry(file: file, target: maildir, name: name, folder: folder, replacing: claim))
        unsynced += 1
        if unsynced >= Self.openLimit { try syncStaged() }
    }

    /// Makes every staged file durable, then publishes them.
    public func commit() throws(PostroomError) {
        try makeDurable()
        try publish()
    }

    /// Puts every staged file's data on stable storage.
    public func makeDurable() throws(PostroomError) {
        try syncStaged()
    }

    private func syncStaged() throws(PostroomError) {
        for index in entries.indices where !entries[index].synced {
            guard let file = entries[index].file else { continue }
            if fdatasync(file.fd) != 0 { throw .io(operation: "fdatasync", path: file.path, errno: errno) }
            entries[index].synced = true
            // A plain file's lock is not needed once durable (its input's claim protects it);
            // a replacement keeps its lock, which becomes the claim's when renamed over it.
            if entries[index].replacing == nil {
                entries[index].file?.close()
                entries[index].file = nil
            }
        }
        unsynced = 0
    }

    /// Renames staged files into place and syncs their directories. Call after `makeDurable()`.
    public func publish() throws(PostroomError) {
        guard !entries.isEmpty else { return }
        var directories = Set<String>()
        for index in entries.indices where entries[index].replacing == nil {
            let entry = entries[index]
            let target = entry.target.path(of: entry.name, in: entry.folder)
            guard try FileSystem.rename(entry.target.path(of: entry.name, in: .tmp), target) else {
                throw .io(operation: "publish", path: entry.target.path(of: entry.name, in: .tmp), errno: ENOENT)
            }
            directories.insert(entry.target.path(of: entry.folder))
        }
        // Replacements: each output first takes its input's place, then moves.
        var claimed = Set<String>()
        for index in entries.indices {
            guard let claim = entries[index].replacing, var file = entries[index].file else { continue }
            entries[index].file = nil
            do throws(PostroomError) { try claim.takeOver(&file) } catch {
                file.close()
                throw error
            }
            claimed.insert(claim.maildir.path(of: .cur))
        }
        for directory in claimed.sorted() { try FileSystem.syncDirectory(directory) }
        for entry in entries {
            guard let claim = entry.replacing else { continue }
            try claim.move(to: entry.target, folder: entry.folder, syncing: false)
            directories.insert(entry.target.path(of: entry.folder))
        }
        for directory in directories.union(claimed).sorted() { try FileSystem.syncDirectory(directory) }
        entries.removeAll()
    }

    /// Removes staged files without publishing them (after an error); claims stay claimed.
    public func discard() {
        for index in entries.indices {
            unlink(entries[index].target.path(of: entries[index].name, in: .tmp))
            entries[index].file?.close()
        }
        entries.removeAll()
        unsynced = 0
    }
}
