import Glibc

/// A message this process has claimed: the file sits in `cur/` and is locked by us.
///
/// The lock is an exclusive `flock(2)` on the file itself, so it follows the file
/// through renames and vanishes when the process dies, even by kill -9. Operators can
/// test a claim with `flock -n FILE true`: it fails while a worker holds the message.
public final class Claim {
    /// The flag that marks finished work in a queue's `cur/` (maildir's "seen").
    public static let doneFlag: Character = "S"
    /// The flag a claimed request carries while the jobs it staged are being published (see `Expander`);
    /// the sweep keeps such staged files.
    public static let publishingFlag: Character = "P"

    /// The maildir the message was claimed from.
    public let maildir: Maildir
    /// The message's name, unchanged from `new/`.
    public private(set) var name: MessageName
    private var fd: Int32
    /// The file's status when it was locked (spool files never change once written).
    private var info: stat
    private var hasRead = false

    private init(maildir: Maildir, name: MessageName, fd: Int32, info: stat) {
        self.maildir = maildir
        self.name = name
        self.fd = fd
        self.info = info
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The claimed file's current path.
    public var path: String { maildir.path(of: name, in: .cur) }

    /// Locks `cur/NAME`; nil when someone else holds it or it moved away meanwhile.
    static func lock(maildir: Maildir, name: MessageName) throws(PostroomError) -> Claim? {
        let file = maildir.path(of: name, in: .cur)
        let fd: Int32
        do {
            fd = try FileSystem.open(file, O_RDONLY)
        } catch {
            if case .missingInput = error, !FileSystem.exists(file) { return nil }
            throw error
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw .io(operation: "lock", path: file, errno: code)
        }
        // Between our rename and our lock, recovery may have moved the file back to new/.
        guard FileSystem.isSameFile(fd, file), let held = FileSystem.status(fd: fd) else {
            close(fd)
            return nil
        }
        return Claim(maildir: maildir, name: name, fd: fd, info: held)
    }

    /// Whether a live process holds the claim on the file at `path`.
    package static func isHeld(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK
    }

    /// The claimed file's status when it was locked: a replacement takes its owner and group.
    var status: stat { info }

    /// The size of the message in bytes.
    public var size: Int { Int(info.st_size) }

    /// The message's modification time (the next-attempt time in `deferred/`).
    public var modificationTime: Int { info.st_mtim.tv_sec }

    /// Reads the whole message (its size is known from the claim: no extra calls on the hot path).
    public func read() throws(PostroomError) -> [UInt8] {
        if hasRead, lseek(fd, 0, SEEK_SET) != 0 { throw .io(operation: "seek", path: path, errno: errno) }
        hasRead = true
        return try FileSystem.readAll(fd, path: path, sizeHint: size, stopAt: size)
    }

    /// Moves the message, keeping its base name, into another maildir.
    ///
    /// Into `new/` the name loses any info (flags belong to `cur/`: a message taken from
    /// `failed/cur/NAME:2,` arrives as `new/NAME`); into `cur/` it gets a `:2,` suffix as
    /// maildir readers expect. Both directories are fsynced unless
    /// `syncing` is false (the caller then syncs once for a batch). The lock is released.
    @discardableResult
    public func move(
        to target: Maildir, folder: Maildir.Folder, renamedTo newName: MessageName? = nil, syncing: Bool = true
    ) throws(PostroomError) -> MessageName {
        var finalName = newName ?? name
        switch folder {
        case .cur: finalName = finalName.withInfo()
        case .new: finalName = MessageName(base: finalName.base)
        case .tmp: break
        }
        let destination = target.path(of: finalName, in: folder)
        guard try FileSystem.rename(path, destination) else {
            throw .io(operation: "move", path: path, errno: ENOENT)
        }
        if syncing {
            try FileSystem.syncDirectory(target.path(of: folder))
            if target.path != maildir.path || folder != .cur { try FileSystem.syncDirectory(maildir.path(of: .cur)) }
        }
        unlock()
        return finalName
    }

    /// Replaces the message with `bytes` and moves it into another maildir.
    ///
    /// One state change is one rename of one file: the new content is staged in the target's
    /// `tmp/`, synced and renamed over the claimed file (still claimed: the lock moves with
    /// it), and only that file is then renamed into place. Killed in between, the claim holds
    /// the new content and is retried like any abandoned claim; there is never a second copy.
    @discardableResult
    public func replace(
        with bytes: [UInt8], to target: Maildir, folder: Maildir.Folder, modificationTime: Int? = nil,
        syncing: Bool = true
    ) throws(PostroomError) -> MessageName {
        var file = try TemporaryFile.write(
            bytes, to: target.path(of: name, in: .tmp), modificationTime: modificationTime, owner: info)
        do throws(PostroomError) {
            try file.sync()
            try takeOver(&file)
        } catch {
            unlink(file.path)
            file.close()
            throw error
        }
        return try move(to: target, folder: folder, syncing: syncing)
    }

    /// Renames a staged, locked file over the claimed one and keeps the claim on it.
    func takeOver(_ file: inout TemporaryFile) throws(PostroomError) {
        // The claim's lock, taken on the new file before it becomes the claimed one.
        guard flock(file.fd, LOCK_EX | LOCK_NB) == 0 else {
            throw .io(operation: "lock", path: file.path, errno: errno)
        }
        guard try FileSystem.rename(file.path, path) else {
            throw .io(operation: "replace \(path) with", path: file.path, errno: ENOENT)
        }
        let replacement = file.takeDescriptor()
        unlock()
        fd = replacement
        hasRead = false
        if let current = FileSystem.status(fd: replacement) { info = current }
    }

    /// Sets the claimed file's modification time to now. `deliver` does this just before it moves
    /// a message into `sent/`, so the mtime says when it was sent: flags added later (by a
    /// rename) change the ctime, never the mtime.
    public func stampSentTime() throws(PostroomError) {
        try FileSystem.stampModificationTime(fd, path: path)
    }

    /// Adds a flag to the claimed file's name, keeping the claim (the lock follows the file).
    public func addFlag(_ flag: Character) throws(PostroomError) {
        let flagged = name.adding(flag)
        guard flagged != name else { return }
        guard try FileSystem.rename(path, maildir.path(of: flagged, in: .cur)) else {
            throw .io(operation: "flag", path: path, errno: ENOENT)
        }
        try FileSystem.syncDirectory(maildir.path(of: .cur))
        name = flagged
    }

    /// Marks the message done where it is (`cur/NAME:2,S`), keeping it for the record.
    @discardableResult
    public func markDone(syncing: Bool = true) throws(PostroomError) -> MessageName {
        let done = name.adding(Self.doneFlag)
        guard try FileSystem.rename(path, maildir.path(of: done, in: .cur)) else {
            throw .io(operation: "mark done", path: path, errno: ENOENT)
        }
        if syncing { try FileSystem.syncDirectory(maildir.path(of: .cur)) }
        unlock()
        return done
    }

    /// Gives the message back to `new/` of its maildir, for another worker or a later run.
    ///
    /// Returns false when the file was no longer there.
    @discardableResult
    public func release(
        to target: Maildir? = nil, folder: Maildir.Folder = .new, syncing: Bool = true
    )
        throws(PostroomError) -> Bool
    {
        let destination = target ?? maildir
        let moved = try FileSystem.rename(path, destination.path(of: name, in: folder))
        if moved && syncing {
            try FileSystem.syncDirectory(destination.path(of: folder))
            try FileSystem.syncDirectory(maildir.path(of: .cur))
        }
        unlock()
        return moved
    }

    /// Drops the lock without moving the file (its worker is done with it).
    public func unlock() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }
}
