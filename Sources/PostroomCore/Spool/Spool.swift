import Glibc

/// The spool: seven maildir queues, the `log` and the `suppress` list under one root.
///
/// ```
/// request/  expanded/  outgoing/  deferred/  sent/  failed/  held/   each with tmp/ new/ cur/
/// log       one line per state change
/// suppress  addresses never to mail again, one per line
/// ```
public struct Spool: Sendable {
    /// The queues, in the order messages travel through them.
    public enum Queue: String, Sendable, CaseIterable, Codable {
        /// Submitted requests (a template and a recipient list) waiting for `expand`.
        case request
        /// One job per envelope recipient, waiting for `render`.
        case expanded
        /// Finished messages waiting for `deliver`.
        case outgoing
        /// Messages that met a temporary failure; the file's mtime is the next attempt.
        case deferred
        /// Messages a server accepted (terminal).
        case sent
        /// Messages that failed permanently or could not be processed (terminal).
        case failed
        /// Posts waiting for a moderator and messages an operator put on hold; nothing claims them.
        case held

        /// Terminal queues keep messages in `cur/` for the record; nothing claims them.
        public var isTerminal: Bool { self == .sent || self == .failed }

        /// Whether flag `S` in `cur/` means finished work here (expanded requests); elsewhere it
        /// is only a flag a file brought along, and the file is a claim like any other.
        public var marksDoneWithFlag: Bool { self == .request }
    }

    /// The spool's root directory.
    public let root: String

    /// A spool rooted at `root` (see `create()` and `open(_:)`).
    public init(root: String) {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    /// The maildir of a queue.
    public func maildir(_ queue: Queue) -> Maildir { Maildir(path: "\(root)/\(queue.rawValue)") }

    /// The audit log's path.
    public var logPath: String { "\(root)/log" }

    /// The suppression list's path.
    public var suppressPath: String { "\(root)/suppress" }

    /// Creates every directory and file of the layout; what exists is left untouched.
    ///
    /// Returns the paths that were created, so `postroom init` can say what it did.
    @discardableResult
    public func create() throws(PostroomError) -> [String] {
        var created: [String] = []
        if !FileSystem.exists(root) { created.append(root) }
        try FileSystem.makeDirectories(root)
        for queue in Queue.allCases {
            let maildir = maildir(queue)
            if !maildir.exists { created.append(maildir.path) }
            try maildir.create()
        }
        for file in [logPath, suppressPath] where !FileSystem.exists(file) {
            let fd = try FileSystem.open(file, O_WRONLY | O_CREAT | O_APPEND, mode: 0o640)
            close(fd)
            created.append(file)
        }
        try FileSystem.syncDirectory(root)
        return created
    }

    /// Checks that the layout exists, with an error that says how to create it.
    public func validate() throws(PostroomError) {
        guard let info = FileSystem.status(root), info.st_mode & S_IFMT == S_IFDIR else {
            throw .missingInput(path: root, reason: "no spool here; create one with 'postroom init \(root)'")
        }
        // A spool this user may not enter looks empty: say so, not that it is incomplete.
        if access(root, R_OK | X_OK) != 0 {
            throw .io(operation: "enter the spool", path: root, errno: errno)
        }
        for queue in Queue.allCases where !maildir(queue).exists {
            let path = maildir(queue).path
            if FileSystem.status(path) != nil, access(path, R_OK | X_OK) != 0 {
                throw .io(operation: "enter the spool", path: path, errno: errno)
            }
            throw .missingInput(
                path: path, reason: "the spool is incomplete; 'postroom init \(root)' adds what is missing")
        }
    }

    /// Removes what writers that died left in every queue's `tmp/`, and returns it
    /// (`expanded/tmp/NAME`). Files still being written are locked and stay; so do the staged
    /// jobs of a request still being expanded or published (the request's claim is held, or it
    /// carries the publishing flag without the done flag): they are state, not leftovers.
    @discardableResult
    public func sweepTemporaryFiles() -> [String] {
        var removed: [String] = []
        for queue in Queue.allCases {
            let maildir = maildir(queue)
            // A dead expand can leave many jobs of one request: look the request up once.
            var expanding: [String: Bool] = [:]
            let swept =
                queue == .expanded
                ? maildir.sweepTemporaryFiles { job in
                    guard let request = job.parent else { return false }
                    if let known = expanding[request.base] { return known }
                    let answer = isBeingExpanded(request)
                    expanding[request.base] = answer
                    return answer
                }
                : maildir.sweepTemporaryFiles()
            removed += swept.map { "\(queue.rawValue)/tmp/\($0)" }
        }
        return removed
    }

    /// Whether `request` is claimed by a live `expand`, or flagged as publishing its jobs.
    private func isBeingExpanded(_ request: MessageName) -> Bool {
        let requests = maildir(.request)
        for folder in [Maildir.Folder.cur, .new] {
            for fileName in requests.names(in: folder) where MessageName(fileName: fileName).base == request.base {
                let name = MessageName(fileName: fileName)
                if name.has(Claim.publishingFlag) && !name.has(Claim.doneFlag) { return true }
                if folder == .cur && !name.has(Claim.doneFlag)
                    && Claim.isHeld(requests.path(of: folder) + "/" + fileName)
                {
                    return true
                }
            }
        }
        return false
    }

    /// Opens an existing spool, checking its layout.
    public static func open(_ root: String) throws(PostroomError) -> Spool {
        let spool = Spool(root: root)
        try spool.validate()
        return spool
    }
}
