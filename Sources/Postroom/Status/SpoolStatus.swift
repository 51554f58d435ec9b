import Glibc

/// What each queue holds, counted by streaming its directories.
///
/// Only `deferred/` needs a `stat(2)` per file (its mtime is the next attempt); ages
/// elsewhere come from the time at the start of each spool name, so 100,000 messages
/// cost one pass of `readdir` and no per-file memory.
public struct SpoolStatus: Sendable {
    /// One queue's counts.
    public struct QueueCounts: Sendable, Equatable {
        /// The queue.
        public var queue: Spool.Queue
        /// Files in `new/`: waiting (or, for `sent` and `failed`, moved back by hand).
        public var new = 0
        /// Files in `cur/` being worked on: claimed, not marked done.
        public var claimed = 0
        /// Files in `cur/` that are finished: done requests, sent and failed messages.
        public var done = 0
        /// Deferred messages whose next attempt is due now; nil for other queues.
        public var due: Int?
        /// Seconds since the oldest message in the queue was created; nil when empty.
        public var oldestAge: Int?

        /// Every message the queue holds.
        public var total: Int { new + claimed + done }
    }

    /// Sent messages whose loopback copy has not come back (flag `L` without `C`) for longer
    /// than a threshold: mail lost after it left.
    public struct Unconfirmed: Sendable, Equatable {
        /// The threshold in seconds.
        public var after: Int
        /// The messages, oldest first: file name and seconds since it was sent (mtime).
        public var messages: [Entry] = []

        /// One unconfirmed message.
        public struct Entry: Sendable, Equatable {
            /// Its file name in `sent/cur/`.
            public var fileName: String
            /// Seconds since it was sent.
            public var age: Int
        }
    }

    /// The counts, in queue order.
    public var queues: [QueueCounts]
    /// Unconfirmed sent messages, when asked for.
    public var unconfirmed: Unconfirmed?
    /// When the counts were taken.
    public var time: Timestamp
    /// The spool's root.
    public var root: String

    /// Counts `spool` as it is at `now`; with `unconfirmedAfter`, also lists the sent messages
    /// unconfirmed for longer (one `stat(2)` for each file with `L` and without `C`).
    public static func measure(
        _ spool: Spool, now: Timestamp = .now(), unconfirmedAfter: Int? = nil
    ) throws(PostroomError) -> SpoolStatus {
        try spool.validate()
        var result: [QueueCounts] = []
        var unconfirmed = unconfirmedAfter.map { Unconfirmed(after: $0) }
        for queue in Spool.Queue.allCases {
            var counts = QueueCounts(queue: queue, due: queue == .deferred ? 0 : nil)
            var oldest: Int?
            let maildir = spool.maildir(queue)
            for folder in [Maildir.Folder.new, .cur] {
                let directory = maildir.path(of: folder)
                for fileName in try DirectoryStream(path: directory).checked() {
                    let name = MessageName(fileName: fileName)
                    var created = name.createdAt
                    if folder == .new {
                        counts.new += 1
                    } else if queue.isTerminal || queue.marksDoneWithFlag && name.has(Claim.doneFlag) {
                        counts.done += 1
                    } else {
                        counts.claimed += 1
                    }
                    if queue == .deferred || created == nil, let info = FileSystem.status("\(directory)/\(fileName)") {
                        if queue == .deferred && folder == .new && info.st_mtim.tv_sec <= now.seconds {
                            counts.due? += 1
                        }
                        if created == nil { created = info.st_ctim.tv_sec }
                    }
                    if let created { oldest = min(oldest ?? created, created) }
                    if unconfirmed != nil, queue == .sent, folder == .cur,
                        name.has(LoopbackConfirmation.sentFlag), !name.has(LoopbackConfirmation.confirmedFlag),
                        let info = FileSystem.status("\(directory)/\(fileName)")
                    {
                        // deliver set the mtime when it sent the message; flags change only the ctime.
                        let age = max(0, now.seconds - info.st_mtim.tv_sec)
                        if age >= unconfirmed?.after ?? 0 {
                            unconfirmed?.messages.append(.init(fileName: fileName, age: age))
                        }
                    }
                }
            }
            counts.oldestAge = oldest.map { max(0, now.seconds - $0) }
            result.append(counts)
        }
        unconfirmed?.messages.sort { ($0.age, $1.fileName) > ($1.age, $0.fileName) }
        return SpoolStatus(queues: result, unconfirmed: unconfirmed, time: now, root: spool.root)
    }

    /// A table for people.
    public var text: String {
        var lines = [
            "spool \(root)",
            pad("queue", 9) + lpad("new", 8) + lpad("working", 9) + lpad("done", 9) + lpad("due", 8) + "  oldest",
        ]
        for counts in queues {
            lines.append(
                pad(counts.queue.rawValue, 9) + lpad(String(counts.new), 8) + lpad(String(counts.claimed), 9)
                    + lpad(String(counts.done), 9) + lpad(counts.due.map(String.init) ?? "-", 8) + "  "
                    + (counts.oldestAge.map(Self.duration) ?? "-"))
        }
        if let unconfirmed {
            let count = unconfirmed.messages.count
            lines.append(
                "unconfirmed after \(Self.duration(unconfirmed.after)): \(count) sent "
                    + (count == 1 ? "message" : "messages") + " whose loopback copy has not come back")
            for entry in unconfirmed.messages.prefix(Self.listedUnconfirmed) {
                lines.append("  \(entry.fileName)  sent \(Self.duration(entry.age)) ago")
            }
            if count > Self.listedUnconfirmed {
                lines.append("  ... and \(count - Self.listedUnconfirmed) more (--json lists them all)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Unconfirmed messages the table names (the oldest); `json` has them all.
    static let listedUnconfirmed = 20

    /// One JSON object for scripts: `{"spool": ..., "time": ..., "queues": {"request": {...}, ...}}`.
    public var json: String {
        let entries = queues.map { counts in
            var fields = [
                "\"new\": \(counts.new)", "\"working\": \(counts.claimed)", "\"done\": \(counts.done)",
                "\"total\": \(counts.total)",
            ]
            fields.append("\"due\": " + (counts.due.map(String.init) ?? "null"))
            fields.append("\"oldest_age_seconds\": " + (counts.oldestAge.map(String.init) ?? "null"))
            return "    \"\(counts.queue.rawValue)\": {" + fields.joined(separator: ", ") + "}"
        }
        var unconfirmedJSON = ""
        if let unconfirmed {
            let messages = unconfirmed.messages.map {
                "\n      {\"name\": \(JSONText.quoted($0.fileName)), \"age_seconds\": \($0.age)}"
            }
            unconfirmedJSON =
                ",\n  \"unconfirmed\": {\"after_seconds\": \(unconfirmed.after), \"count\": \(messages.count), "
                + "\"messages\": [" + messages.joined(separator: ",") + (messages.isEmpty ? "]}" : "\n    ]}")
        }
        return "{\n  \"spool\": \(JSONText.quoted(root)),\n  \"time\": \(time.seconds),\n  \"queues\": {\n"
            + entries.joined(separator: ",\n") + "\n  }" + unconfirmedJSON + "\n}\n"
    }

    /// `45s`, `12m05s`, `3h02m`, `2d04h`.
    public static func duration(_ seconds: Int) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(two(seconds % 60))s" }
        if seconds < 86400 { return "\(seconds / 3600)h\(two(seconds % 3600 / 60))m" }
        return "\(seconds / 86400)d\(two(seconds % 86400 / 3600))h"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }
    private func lpad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - text.count)) + text
    }
}
