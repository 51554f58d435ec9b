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

    /// The counts, in queue order.
    public var queues: [QueueCounts]
    /// When the counts were taken.
    public var time: Timestamp
    /// The spool's root.
    public var root: String

    /// Counts `spool` as it is at `now`.
    public static func measure(_ spool: Spool, now: Timestamp = .now()) throws(PostroomError) -> SpoolStatus {
        try spool.validate()
        var result: [QueueCounts] = []
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
                }
            }
            counts.oldestAge = oldest.map { max(0, now.seconds - $0) }
            result.append(counts)
        }
        return SpoolStatus(queues: result, time: now, root: spool.root)
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
        return lines.joined(separator: "\n") + "\n"
    }

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
        return "{\n  \"spool\": \(JSONText.quoted(root)),\n  \"time\": \(time.seconds),\n  \"queues\": {\n"
            + entries.joined(separator: ",\n") + "\n  }\n}\n"
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

/// JSON string literals without Foundation.
enum JSONText {
    /// `text` as a JSON string, escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + Hex.upper(UInt8(scalar.value))
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
