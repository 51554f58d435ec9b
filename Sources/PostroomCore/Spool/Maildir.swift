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

    /// Creates the three subdirectories; existing ones are left alone. With `adoptingOwner`,
    /// each directory created gets the owner and group of the one it is in.
    public func create(mode: mode_t = 0o750, adoptingOwner: Bool = false) throws(PostroomError) {
        try FileSystem.makeDirectories(path, mode: mode, adoptingOwner: adoptingOwner)
        for folder in Folder.allCases {
            try FileSystem.makeDirectory(path(of: folder), mode: mode, adoptingOwner: adoptingOwner)
        }
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
        var file = try TemporaryFile.write(bytes, to: path(of: name, in: .tmp), modificationTime: modificationTime)
        defer { file.close() }
        try file.sync()
        try publish(name, in: folder)
        try FileSystem.syncDirectory(path(of: folder))
    }

    /// Writes and fsyncs `bytes` into `tmp/`, not yet visible to readers.
    ///
    /// Call `publish(_:in:)` for each staged file and then sync the target directory once.
    /// The staged file is no longer locked: it must belong to something the caller holds
    /// (a claim, or a request being expanded), or a sweep may remove it.
    public func stage(
        _ bytes: [UInt8], as name: MessageName, modificationTime: Int? = nil
    ) throws(PostroomError)
        -> MessageName
    {
        var file = try TemporaryFile.write(bytes, to: path(of: name, in: .tmp), modificationTime: modificationTime)
        defer { file.close() }
        try file.sync()
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
    /// A claim is abandoned when nobody holds its lock. Where a queue keeps finished work in
    /// `cur/` (flag `S`: done requests), `keepingDone` leaves those; elsewhere `S` is only a
    /// flag a file brought along. `destination` decides, while the claim is still held, where
    /// a recovered file goes (a stage whose claimed file may already be its output); nil
    /// means this maildir's `new/`. Returns the names recovered and where they went.
    @discardableResult
    public func recoverAbandonedClaims(
        keepingDone: Bool = true, destination: ((Claim) throws(PostroomError) -> Maildir)? = nil
    ) throws(PostroomError) -> [(name: MessageName, to: Maildir)] {
        var recovered: [(name: MessageName, to: Maildir)] = []
        var directories = Set<String>()
        for fileName in try names(in: .cur).checked() {
            let name = MessageName(fileName: fileName)
            if keepingDone && name.has(Claim.doneFlag) { continue }
            guard let claim = try Claim.lock(maildir: self, name: name) else { continue }
            let target = try destination?(claim) ?? self
            if try claim.release(to: target, folder: .new, syncing: false) {
                recovered.append((name, target))
                directories.insert(target.path(of: .new))
            }
        }
        if !recovered.isEmpty {
            for directory in directories.sorted() { try FileSystem.syncDirectory(directory) }
            try FileSystem.syncDirectory(path(of: .cur))
        }
        return recovered
    }
}
