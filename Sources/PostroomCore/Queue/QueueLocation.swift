/// Where a message an operator named is: its queue, folder and name on disk.
public struct QueueLocation: Sendable, Equatable {
    /// The queue holding the file.
    public var queue: Spool.Queue
    /// `new/` or `cur/`.
    public var folder: Maildir.Folder
    /// The file's name on disk (flags and all).
    public var name: MessageName

    /// A location from parts.
    public init(queue: Spool.Queue, folder: Maildir.Folder, name: MessageName) {
        self.queue = queue
        self.folder = folder
        self.name = name
    }

    /// `outgoing/new`, for messages.
    public var place: String { "\(queue.rawValue)/\(folder.rawValue)" }
}

extension MessageName {
    /// A name an operator gave (an argument, or a line of standard input): a spool file name,
    /// with or without its `:2,FLAGS` suffix, never a path.
    ///
    /// Empty names, names with `/`, `.`-names and control characters are refused (exit 65), so a
    /// name can never reach outside the queue directories it is looked up in.
    public init(operatorName text: String) throws(PostroomError) {
        func refuse(_ reason: String) -> PostroomError {
            .malformed(what: "message name", location: "\"\(text.escapingControls)\"", reason: reason)
        }
        guard !text.isEmpty else {
            throw refuse("the name is empty; give a spool file name as 'postroom list' prints it")
        }
        if text.utf8.contains(UInt8(ascii: "/")) {
            throw refuse("a path, not a name; " + Self.pathHint(text))
        }
        if text.utf8.first == UInt8(ascii: ".") {
            throw refuse("names starting with a dot (., .., hidden files) are not spool messages")
        }
        if text.utf8.contains(where: { $0 < 32 || $0 == 127 }) {
            throw refuse("a name has no control characters")
        }
        self.init(fileName: text)
        if base.isEmpty { throw refuse("there is no name before the ':'") }
    }
}

extension MessageName {
    /// What to give instead of a path: the spool file name as `postroom list` prints it; of a
    /// path into a queue's `new/` or `cur/`, that is the last part, which the hint quotes.
    static func pathHint(_ path: String) -> String {
        let hint = "give the spool file name alone, as 'postroom list' prints it"
        let folder = FileSystem.baseName(FileSystem.parent(of: path))
        let fileName = FileSystem.baseName(path)
        guard folder == "new" || folder == "cur", !fileName.isEmpty, fileName.utf8.first != UInt8(ascii: ".") else {
            return hint
        }
        return hint + " (here \"\(fileName.escapingControls)\")"
    }
}

extension Spool {
    /// The queues a message name is looked for in, in this order.
    static let lookupOrder: [Queue] = [.outgoing, .deferred, .held, .failed, .sent, .expanded, .request]

    /// Where the messages named `names` are, by base name; names found nowhere are absent.
    ///
    /// Each name is first tried at the paths a file of that name usually has (`new/NAME`,
    /// `cur/NAME:2,`), a few `stat(2)` calls; the names still missing are then looked for in one
    /// streamed pass over every queue, so a thousand names cost one pass, not a thousand.
    public func locate(_ names: [MessageName]) throws(PostroomError) -> [String: QueueLocation] {
        var found: [String: QueueLocation] = [:]
        var missing = Set<String>()
        for name in names where found[name.base] == nil {
            if let location = probe(name) { found[name.base] = location } else { missing.insert(name.base) }
        }
        guard !missing.isEmpty else { return found }
        for queue in Self.lookupOrder {
            for folder in [Maildir.Folder.new, .cur] {
                for fileName in try maildir(queue).names(in: folder).checked() {
                    let name = MessageName(fileName: fileName)
                    guard missing.contains(name.base), found[name.base] == nil else { continue }
                    found[name.base] = QueueLocation(queue: queue, folder: folder, name: name)
                }
            }
        }
        return found
    }

    /// Where `name` is, from its usual paths alone; nil when it is at none of them.
    public func probe(_ name: MessageName) -> QueueLocation? {
        let plain = MessageName(base: name.base)
        let candidates: [(Maildir.Folder, MessageName)] = [
            (.new, name), (.new, plain), (.cur, name), (.cur, plain.withInfo()),
            (.cur, plain.adding(Claim.doneFlag)),
        ]
        for queue in Self.lookupOrder {
            let maildir = maildir(queue)
            for (folder, candidate) in candidates where FileSystem.exists(maildir.path(of: candidate, in: folder)) {
                return QueueLocation(queue: queue, folder: folder, name: candidate)
            }
        }
        return nil
    }

    /// Where `name` is now (after a lost race): its usual paths, then a pass over the queues.
    func relocate(_ name: MessageName) throws(PostroomError) -> QueueLocation? {
        try locate([name])[name.base]
    }
}
