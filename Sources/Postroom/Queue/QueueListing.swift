import Glibc

/// One message as `postroom list` shows it: where it is, how old and large, to whom, and why it
/// waits (the last reply of a deferred message, the reason of a failed or held one).
public struct QueueEntry: Sendable {
    /// The file's name on disk (the base is what queue commands take).
    public var name: MessageName
    /// The queue holding it.
    public var queue: Spool.Queue
    /// `new/` or `cur/`.
    public var folder: Maildir.Folder
    /// `waiting`, `due` (deferred, next attempt passed), `held`, `claimed` (a live worker holds it),
    /// `abandoned` (a stopped worker's claim, returned on the next run), `interrupted` (a held
    /// post whose release was stopped: release it again) or `done` (sent, failed, expanded requests).
    public var state: String
    /// Bytes.
    public var size: Int
    /// When the message was made (from its name; else the file's change time).
    public var created: Int
    /// The envelope recipient, when the file names one.
    public var recipient: String?
    /// The envelope sender (empty: the null sender), when the file names one.
    public var sender: String?
    /// Delivery attempts so far (deferred and failed messages).
    public var attempts: Int?
    /// The next attempt (deferred messages in `new/`: the file's mtime).
    public var nextAttempt: Int?
    /// The last server reply or error.
    public var lastError: String?
    /// Why the message is failed or held.
    public var reason: String?
    /// The list a held post waits to be released to.
    public var heldFor: String?

    /// One line for people: `NAME  queue  state  age  size  <recipient>  why`.
    public func text(now: Int) -> String {
        var line = name.base + "  " + pad(queue.rawValue, 8) + "  " + pad(state, 11) + "  "
        line += lpad(SpoolStatus.duration(max(0, now - created)), 6) + "  " + lpad(String(size), 8) + "  "
        line += recipient.map { "<\($0)>" } ?? "-"
        var why: [String] = []
        if let attempts { why.append(attempts == 1 ? "1 attempt" : "\(attempts) attempts") }
        if let nextAttempt {
            why.append(nextAttempt <= now ? "due" : "next in \(SpoolStatus.duration(nextAttempt - now))")
        }
        if let heldFor { why.append("for \(heldFor)") }
        var detail = why.joined(separator: ", ")
        if let text = reason ?? lastError { detail += (detail.isEmpty ? "" : ": ") + text }
        if !detail.isEmpty { line += "  (" + detail + ")" }
        return line.escapingControls
    }

    /// One JSON object on one line, for `jq`.
    public func json(now: Int) -> String {
        func string(_ value: String?) -> String { value.map(JSONText.quoted) ?? "null" }
        func number(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        let fields = [
            ("name", string(name.base)), ("file", string(name.fileName)), ("queue", string(queue.rawValue)),
            ("folder", string(folder.rawValue)), ("state", string(state)), ("created", number(created)),
            ("age", number(max(0, now - created))), ("size", number(size)), ("recipient", string(recipient)),
            ("sender", string(sender)), ("attempts", number(attempts)), ("next_attempt", number(nextAttempt)),
            ("last_error", string(lastError)), ("reason", string(reason)), ("held_for", string(heldFor)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    private func lpad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

/// `postroom list`: the messages of some queues, one at a time, straight from the directories.
public enum QueueListing {
    /// The queues an operator acts on, listed when none is named.
    public static let defaultQueues: [Spool.Queue] = [.outgoing, .deferred, .held, .failed]

    /// How much of a file is read to show what cannot be parsed (the fields a stage put in front).
    static let unparsableReadLimit = 1 << 20

    /// Calls `body` with each message of `queues` (`new/`, then `cur/`), in directory order.
    ///
    /// Nothing is collected: each file's header is read, shown and dropped, so a queue of 100,000
    /// messages costs the memory of one. A file that moves away meanwhile is skipped.
    public static func forEach(
        in spool: Spool, queues: [Spool.Queue], now: Int, _ body: (QueueEntry) throws(PostroomError) -> Void
    ) throws(PostroomError) {
        try spool.validate()
        for queue in queues {
            let maildir = spool.maildir(queue)
            for folder in [Maildir.Folder.new, .cur] {
                for fileName in try maildir.names(in: folder).checked() {
                    let name = MessageName(fileName: fileName)
                    if let entry = entry(
                        name, queue: queue, folder: folder, path: maildir.path(of: name, in: folder), now: now)
                    {
                        try body(entry)
                    }
                }
            }
        }
    }

    /// The entry for one file; nil when it is gone.
    static func entry(
        _ name: MessageName, queue: Spool.Queue, folder: Maildir.Folder, path: String, now: Int
    ) -> QueueEntry? {
        guard let info = FileSystem.status(path) else { return nil }
        var entry = QueueEntry(
            name: name, queue: queue, folder: folder, state: state(name, queue: queue, folder: folder, path: path),
            size: Int(info.st_size), created: name.createdAt ?? info.st_ctim.tv_sec)
        if queue == .deferred && folder == .new {
            entry.nextAttempt = info.st_mtim.tv_sec
            if entry.state == "waiting" && info.st_mtim.tv_sec <= now { entry.state = "due" }
        }
        let header: Message
        do {
            guard let stored = try StoredMessage.open(path, headerLimit: nil) else { return entry }
            header = stored.header
        } catch {
            guard FileSystem.exists(path) else { return nil }
            // A message that does not parse shows the reason a stage put in front of it.
            if Int(info.st_size) <= unparsableReadLimit, let bytes = try? FileSystem.readFile(path),
                let fields = Message.leadingControlFields(of: bytes)
            {
                entry.reason = fields.control(.failure)
            }
            entry.reason = (entry.reason.map { $0 + "; " } ?? "") + "does not parse: \(error.description)"
            return entry
        }
        entry.recipient = header.control(.envelopeTo).map(Self.address)
        entry.sender = header.control(.envelopeFrom).map(Self.address)
        entry.attempts = header.control(.attempts).flatMap { Int($0) }
        entry.lastError = header.control(.lastError)
        entry.heldFor = header.control(.heldFor)
        switch queue {
        case .failed: entry.reason = header.control(.failure)
        case .held: entry.reason = header.control(.heldReason) ?? (entry.heldFor == nil ? "held by operator" : nil)
        default: break
        }
        return entry
    }

    private static func state(_ name: MessageName, queue: Spool.Queue, folder: Maildir.Folder, path: String) -> String {
        if folder == .new { return queue == .held ? "held" : "waiting" }
        if queue.isTerminal || (queue.marksDoneWithFlag && name.has(Claim.doneFlag)) { return "done" }
        if Claim.isHeld(path) { return "claimed" }
        return queue == .held ? "interrupted" : "abandoned"
    }

    /// `a@b` from `<a@b>`; the text as it is when it is no path.
    private static func address(_ path: String) -> String {
        var text = path.trimmingSpaces
        if text.hasPrefix("<") && text.hasSuffix(">") && text.count >= 2 { text = String(text.dropFirst().dropLast()) }
        return text
    }
}
