import CSystem
import Glibc

/// Writes the copies of one routed message so that each lands exactly once, however often the
/// MTA retries and wherever `route` is killed.
///
/// Invariant: the directory `route/KEY` exists exactly when the fan-out of the message with that
/// key is committed. Copies are written into `route/KEY.stage/` and made durable; renaming that
/// directory to `route/KEY` commits them all at once; each copy is then published by one rename
/// into its queue's `new/`. A retry (same key) that finds `route/KEY` only publishes what is still
/// in it, so a copy is never made twice nor lost; one that finds only `KEY.stage` starts over,
/// since nothing of it was published. The empty `route/KEY` stays behind as the record that the
/// message was routed, and is removed after `retention` seconds, longer than MTAs keep retrying.
public struct FanOut {
    /// What `commit` did.
    public struct Result: Sendable, Equatable {
        /// Copies published by this run, by name and destination directory.
        public var published: [(name: MessageName, directory: String)]
        /// Whether the message had been committed by an earlier run (a retry after a crash).
        public var wasCommittedBefore: Bool
        /// Queue directories that received copies and are not synced yet: only after
        /// `commit(_:syncingQueues: false, name:)`, whose caller syncs them before it reports success.
        public var unsyncedQueues: [String] = []

        public static func == (lhs: Result, rhs: Result) -> Bool {
            lhs.wasCommittedBefore == rhs.wasCommittedBefore
                && lhs.published.map { "\($0.name)\u{0}\($0.directory)" }
                    == rhs.published.map { "\($0.name)\u{0}\($0.directory)" }
        }
    }

    /// How long the record of a routed message is kept: a week, beyond the five days for which
    /// Exim and Postfix retry a deferred delivery by default.
    public static let retention = 7 * 24 * 3600

    private let spool: Spool
    private let key: String
    private let directory: String

    /// The fan-out of the message whose identity is `key`, in `spool`'s `route/` directory.
    public init(spool: Spool, key: String) {
        self.spool = spool
        self.key = key
        directory = "\(spool.root)/route"
    }

    private var committedPath: String { "\(directory)/\(key)" }
    private var stagingPath: String { "\(directory)/\(key).stage" }

    /// Whether an earlier run committed this message.
    public var isCommitted: Bool { FileSystem.exists(committedPath) }

    /// Makes every copy durable and publishes it; on a retry, publishes what an interrupted run
    /// left. `name(index)` names copy `index` (lineage: the copies share their parent's name).
    ///
    /// Without `syncingQueues`, the queue directories the copies were renamed into are left for
    /// the caller to sync (`Result.unsyncedQueues`), so that it can sync them together with its
    /// log; the copies are durable only once it has.
    public func commit(
        _ copies: [RouteCopy], syncingQueues: Bool = true, name: (Int) -> MessageName
    ) throws(PostroomError) -> Result {
        // Created by whoever routes or releases first (root, for an operator): owned like the spool.
        try FileSystem.makeDirectories(directory, adoptingOwner: true)
        if isCommitted { return try publishCommitted(retry: true, syncingQueues: syncingQueues) }

        // One writer per key: a second run for the same message waits here, then finds it committed.
        try FileSystem.makeDirectories(stagingPath, adoptingOwner: true)
        let lock = try FileSystem.open(stagingPath, O_RDONLY | O_DIRECTORY)
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io(operation: "lock", path: stagingPath, errno: errno) }
        }
        if isCommitted {
            rmdir(stagingPath)
            return try publishCommitted(retry: true, syncingQueues: syncingQueues)
        }
        guard FileSystem.isSameFile(lock, stagingPath) else {
            throw .temporary("\(stagingPath) changed while route waited for it; the MTA will retry")
        }

        // A crashed attempt's staged files were never published: start over.
        for leftover in DirectoryStream(path: stagingPath) { unlink("\(stagingPath)/\(leftover)") }
        try stage(copies, name: name)
        // The commit: one rename of one directory.
        try FileSystem.rename(stagingPath, committedPath)
        try FileSystem.syncDirectory(directory)
        removeExpiredRecords()
        return try publishCommitted(retry: false, syncingQueues: syncingQueues)
    }

    /// Writes each copy into the staging directory; all are on disk before this returns.
    private func stage(_ copies: [RouteCopy], name: (Int) -> MessageName) throws(PostroomError) {
        var written: [(fd: Int32, path: String)] = []
        defer { for file in written where file.fd >= 0 { close(file.fd) } }
        // Local maildirs are listed in a file; a staged copy's name says which by its line.
        var maildirs: [String] = []
        for copy in copies {
            if case .maildir(let path) = copy.destination, !maildirs.contains(path) {
                try Maildir(path: path).create(adoptingOwner: true)
                maildirs.append(path)
            }
        }
        if !maildirs.isEmpty {
            let list = Array(maildirs.map { $0 + "\n" }.joined().utf8)
            let file = try TemporaryFile.write(list, to: "\(stagingPath)/\(Self.maildirList)")
            try file.sync()
        }
        for (index, copy) in copies.enumerated() {
            let prefix: String
            switch copy.destination {
            case .outgoing: prefix = "o."
            case .held: prefix = "h."
            case .maildir(let path): prefix = "m\(maildirs.firstIndex(of: path) ?? 0)."
            }
            let path = "\(stagingPath)/\(prefix)\(name(index).fileName)"
            var file = try TemporaryFile.write(Self.contents(of: copy), to: path)
            _ = sync_file_range(file.fd, 0, 0, UInt32(POSTROOM_SYNC_FILE_RANGE_WRITE))
            written.append((file.takeDescriptor(), path))
            // Bound the open descriptors: sync what is written so far.
            if written.count >= 256 {
                try Self.syncData(written)
                for file in written { close(file.fd) }
                written.removeAll()
            }
        }
        // The data and the directory's entries have no order between them: one commit for both.
        try ConcurrentSync.run([
            written.map { .file(fd: $0.fd, path: $0.path, dataOnly: true) }, [.directory(stagingPath)],
        ])
    }

    private static func syncData(_ files: [(fd: Int32, path: String)]) throws(PostroomError) {
        for file in files where fdatasync(file.fd) != 0 {
            throw .io(operation: "fdatasync", path: file.path, errno: errno)
        }
    }

    /// Renames every copy still in the committed directory into its queue. A retry also syncs the
    /// spool's queues it published nothing into: the run it repeats may have renamed copies there
    /// and died before syncing them.
    private func publishCommitted(retry: Bool, syncingQueues: Bool) throws(PostroomError) -> Result {
        var published: [(name: MessageName, directory: String)] = []
        var touched: [String] =
            retry ? [spool.maildir(.outgoing).path + "/new", spool.maildir(.held).path + "/new"] : []
        let listPath = "\(committedPath)/\(Self.maildirList)"
        let maildirs =
            FileSystem.exists(listPath)
            ? try FileSystem.readFile(listPath).split(separator: 10).map { String(decoding: $0, as: UTF8.self) } : []
        for fileName in DirectoryStream(path: committedPath).sorted() where fileName != Self.maildirList {
            guard let (destination, name) = destination(of: fileName, maildirs: maildirs) else { continue }
            let target = "\(destination)/new"
            if try publish("\(committedPath)/\(fileName)", into: target, as: name) {
                published.append((name, destination))
                if !touched.contains(target) { touched.append(target) }
            }
        }
        var result = Result(published: published, wasCommittedBefore: retry)
        guard syncingQueues else {
            // The list stays (with the record) until the copies' renames are durable: without it a
            // retry could not tell where a staged copy goes.
            result.unsyncedQueues = touched
            return result
        }
        try ConcurrentSync.run(touched.map { [.directory($0)] })
        if FileSystem.exists(listPath) { try FileSystem.removeFile(listPath) }
        return result
    }

    /// One copy into its maildir's `new/`: a rename, or, for a maildir on another file system,
    /// a durable copy through its `tmp/` before the staged file goes.
    private func publish(
        _ source: String, into target: String, as name: MessageName
    ) throws(PostroomError)
        -> Bool
    {
        if Glibc.rename(source, "\(target)/\(name.fileName)") == 0 { return true }
        let code = errno
        if code == ENOENT && !FileSystem.exists(source) { return false }  // a concurrent retry took it
        guard code == EXDEV else {
            throw .cannotCreate(path: "\(target)/\(name.fileName)", errno: code)
        }
        let maildir = Maildir(path: String(target.dropLast(4)))
        let bytes = try FileSystem.readFile(source)
        let file = try TemporaryFile.write(bytes, to: maildir.path(of: name, in: .tmp))
        try file.sync()
        try maildir.publish(name)
        try FileSystem.removeFile(source)
        return true
    }

    /// The staged file that lists the local maildirs copies go to, one per line.
    static let maildirList = "maildirs"

    /// The queue (or maildir) a staged file goes to, from the prefix on its name.
    private func destination(of fileName: String, maildirs: [String]) -> (String, MessageName)? {
        if fileName.hasPrefix("o.") {
            return (spool.maildir(.outgoing).path, MessageName(fileName: String(fileName.dropFirst(2))))
        }
        if fileName.hasPrefix("h.") {
            return (spool.maildir(.held).path, MessageName(fileName: String(fileName.dropFirst(2))))
        }
        if fileName.hasPrefix("m"), let dot = fileName.firstIndex(of: "."),
            let index = Int(fileName[fileName.index(after: fileName.startIndex)..<dot]),
            maildirs.indices.contains(index)
        {
            // m<N>.<name>: line N of the maildir list.
            return (maildirs[index], MessageName(fileName: String(fileName[fileName.index(after: dot)...])))
        }
        return nil
    }

    /// The file a copy becomes: the spool's control fields, then the header and body.
    static func contents(of copy: RouteCopy) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(copy.header.count + copy.body.count + 256)
        func control(_ header: ControlHeader, _ value: String) {
            out += Array("\(header.rawValue): \(ControlHeader.encode(value))\n".utf8)
        }
        switch copy.destination {
        case .outgoing, .held:
            control(.envelopeFrom, "<\(copy.envelope.sender ?? "")>")
            for recipient in copy.envelope.recipients { control(.envelopeTo, "<\(recipient)>") }
            for (header, value) in copy.control { control(header, value) }
        case .maildir:
            // What a local delivery agent adds: the envelope, for the archive's reader.
            out += Array("Return-Path: <\(copy.envelope.sender ?? "")>\n".utf8)
        }
        out += copy.header
        out += copy.body
        return out
    }

    /// Removes records of messages routed longer ago than `retention`, and staging directories
    /// abandoned as long; done on one run in 64 (keys starting 00 to 03), so most runs never list
    /// the directory.
    private func removeExpiredRecords() {
        guard key.hasPrefix("0"), let second = key.dropFirst().first, "0123".contains(second) else { return }
        let cutoff = Timestamp.now().seconds - Self.retention
        for entry in DirectoryStream(path: directory) {
            let path = "\(directory)/\(entry)"
            guard let info = FileSystem.status(path), info.st_mtim.tv_sec < cutoff else { continue }
            for file in DirectoryStream(path: path) { unlink("\(path)/\(file)") }
            rmdir(path)
        }
    }
}
