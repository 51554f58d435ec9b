import Glibc

/// A small text file that several processes change: `suppress`, and the bounce history.
///
/// Invariant: every change is made under an exclusive `flock(2)` on a companion lock file
/// (`FILE.lock`), reads the file as it is now, and replaces it whole with one rename of a
/// synced new file; the directory is synced before the lock is dropped. So two processes never
/// lose each other's lines, a reader sees the old file or the new one, and an administrator
/// who edits the file with a text editor (which also writes and renames) keeps working.
package struct LockedTextFile: Sendable {
    /// The file's path.
    package let path: String

    package init(path: String) { self.path = path }

    /// The file's lines as they are now; a missing file has none.
    package func lines() throws(PostroomError) -> [Substring] {
        guard FileSystem.exists(path) else { return [] }
        return Self.split(try FileSystem.readFile(path))
    }

    /// Runs `change` on the current lines under the lock and writes the lines it leaves, when it
    /// returns true. Returns what `change` returned.
    @discardableResult
    package func update(_ change: (inout [String]) throws(PostroomError) -> Bool) throws(PostroomError) -> Bool {
        let directory = FileSystem.parent(of: path)
        guard let directoryStatus = FileSystem.status(directory) else {
            throw .io(operation: "stat", path: directory, errno: errno)
        }
        // The lock gets the file's permissions (0640 for a new file), its directory's owner.
        let lockMode = FileSystem.status(path).map { $0.st_mode & 0o7777 } ?? 0o640
        // Read access is enough for flock(2): whoever may read the file may take the lock.
        let lock = try FileSystem.openCreatingOwned(path + ".lock", O_RDONLY | O_NOFOLLOW, mode: lockMode)
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io(operation: "lock", path: path + ".lock", errno: errno) }
        }
        var current = try lines().map(String.init)
        guard try change(&current) else { return false }
        var text = current.joined(separator: "\n")
        if !text.isEmpty { text += "\n" }
        let staged = path + ".new"
        // The replacement keeps the file's owner, group and permissions (a new file: the directory's owner).
        let existing = FileSystem.status(path)
        let mode = existing.map { $0.st_mode & 0o7777 } ?? 0o640
        let fd = try FileSystem.open(staged, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: mode)
        do throws(PostroomError) {
            try FileSystem.adoptOwner(of: existing ?? directoryStatus, fd: fd, path: staged, mode: mode)
            try FileSystem.setMode(fd: fd, path: staged, mode: mode)
            try FileSystem.writeAll(fd, Array(text.utf8), path: staged)
            try FileSystem.sync(fd, path: staged)
        } catch {
            close(fd)
            unlink(staged)
            throw error
        }
        close(fd)
        guard try FileSystem.rename(staged, path) else { throw .io(operation: "replace", path: path, errno: ENOENT) }
        try FileSystem.syncDirectory(directory)
        return true
    }

    /// Splits on LF (a CR before it is dropped) and drops empty lines: callers decide what a line means.
    package static func split(_ bytes: [UInt8]) -> [Substring] {
        // On bytes: in a String, CR LF is one Character and would not split at "\n".
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            let text = line.last == 13 ? line.dropLast() : line
            return text.isEmpty ? nil : Substring(String(decoding: text, as: UTF8.self))
        }
    }
}
