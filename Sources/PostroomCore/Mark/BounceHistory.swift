import Glibc

/// The spool's `bounces` file: the counted bounces of addresses not yet suppressed.
///
/// A plain text file, one line per counted bounce, changed only under its lock
/// (`LockedTextFile`):
///
/// ```
/// 2026-12-02 bob@example.net 5.1.2 list=S1-students@site key=6f1c0a93d2b4e587
/// 2026-12-03 bob@example.net - name=1764640000.M1P2Q3.host key=0be7a1f3c9d25e46
/// ```
///
/// Date (UTC), address, status (`-` when the bounce had none), what bounced (`list=` or
/// `name=`), and a key naming the bounce itself, so the same bounce delivered twice (an MTA
/// retry) is counted once. An address is suppressed after bounces on `bounce_days` distinct
/// days within `bounce_window`, or at once for a 5.1.1 or 5.1.10; its lines then go. Lines
/// older than the window go whenever the file is rewritten; lines that do not parse (an
/// administrator's comment) stay.
public struct BounceHistory: Sendable {
    /// The thresholds, from `bounce_days` and `bounce_window`.
    public struct Policy: Sendable, Equatable {
        /// Distinct days with a counted bounce that suppress an address.
        public var days: Int
        /// How far back bounces count, in seconds.
        public var window: Int

        /// A policy from parts.
        public init(days: Int = 3, window: Int = 30 * 86_400) {
            self.days = days
            self.window = window
        }

        /// The configured policy; a bad value is a configuration error naming the key.
        public init(configuration: Configuration) throws(PostroomError) {
            let daysText = configuration.value(Configuration.bounceDays) ?? "3"
            guard let days = Int(daysText), days >= 1 else {
                throw .configuration(
                    location: configuration.path,
                    reason: "bounce_days = \(daysText) is not a whole number of days of at least 1")
            }
            let windowText = configuration.value(Configuration.bounceWindow) ?? "30d"
            let window: Int
            do throws(PostroomError) {
                window = try DurationText.seconds(windowText)
            } catch {
                throw .configuration(location: configuration.path, reason: "bounce_window: \(error.description)")
            }
            guard window >= 86_400 else {
                throw .configuration(
                    location: configuration.path, reason: "bounce_window = \(windowText) is shorter than one day")
            }
            self.init(days: days, window: window)
        }

        /// The window in whole days (at least one).
        var windowDays: Int { max(1, window / 86_400) }
    }

    /// One line of the file.
    public struct Entry: Sendable, Equatable {
        /// The UTC day, `2026-12-02`.
        public var date: String
        /// The address that bounced.
        public var address: String
        /// The DSN status, or `-`.
        public var status: String
        /// `list=ADDRESS` or `name=SPOOL-NAME`.
        public var what: String
        /// The bounce's own key.
        public var key: String

        /// An entry from parts.
        public init(date: String, address: String, status: String, what: String, key: String) {
            self.date = date
            self.address = address
            self.status = status
            self.what = what
            self.key = key
        }

        /// Parses a line; nil for anything else.
        public init?(line: Substring) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count == 5, words[4].hasPrefix("key="), BounceHistory.day(of: words[0]) != nil else {
                return nil
            }
            self.init(
                date: String(words[0]), address: String(words[1]), status: String(words[2]), what: String(words[3]),
                key: String(words[4].dropFirst(4)))
        }

        /// The line as written.
        public var line: String { "\(date) \(address) \(status) \(what) key=\(key)" }
    }

    /// What counting a bounce did.
    public enum Outcome: Sendable, Equatable {
        /// The same bounce was counted before: nothing changed.
        case duplicate
        /// Counted; the address now has bounces on this many distinct days in the window.
        case counted(days: Int)
        /// The address reached the threshold (or bounced with 5.1.1): suppressed with this
        /// note, its lines dropped. `added` is false when `suppress` already had it.
        case suppressed(note: String, added: Bool)
    }

    /// The file's path.
    public let path: String
    /// The spool's `suppress` file.
    public let suppress: SuppressFile

    /// The `bounces` file of `spool`.
    public init(spool: Spool) {
        path = "\(spool.root)/bounces"
        suppress = SuppressFile(spool: spool)
    }

    /// The entries as they are now.
    public func entries() throws(PostroomError) -> [Entry] {
        try LockedTextFile(path: path).lines().compactMap(Entry.init(line:))
    }

    /// Counts `entry` (its date is today's) under `policy`; `atOnce` suppresses without
    /// waiting for the threshold. The suppress file is changed while the history is locked, so
    /// a crash between the two leaves the history's lines in place and a retry finishes the job.
    public func count(
        _ entry: Entry, policy: Policy, atOnce: Bool, reason: String
    ) throws(PostroomError) -> Outcome {
        var outcome = Outcome.duplicate
        let key = SuppressionList.key(entry.address)
        let today = Self.day(of: entry.date[...]) ?? 0
        let oldest = today - policy.windowDays + 1
        try LockedTextFile(path: path).update { lines throws(PostroomError) in
            var changed = false
            lines.removeAll { line in
                guard let old = Entry(line: line[...]), let day = Self.day(of: old.date[...]), day < oldest else {
                    return false
                }
                changed = true
                return true
            }
            // Already suppressed for all mail (a bounce delivered again after it suppressed, or a
            // retry of a run killed after it wrote suppress): nothing more to count.
            if try suppress.read().contains(entry.address) {
                let before = lines.count
                lines.removeAll { line in Entry(line: line[...]).map { SuppressionList.key($0.address) == key } ?? false
                }
                outcome = .suppressed(note: "already suppressed", added: false)
                return changed || lines.count != before
            }
            let mine = lines.compactMap { Entry(line: $0[...]) }.filter { SuppressionList.key($0.address) == key }
            guard !mine.contains(where: { $0.key == entry.key }) else { return changed }
            let counted = mine + [entry]
            let days = Set(counted.map(\.date)).sorted()
            guard atOnce || days.count >= policy.days else {
                lines.append(entry.line)
                outcome = .counted(days: days.count)
                return true
            }
            let statuses = Set(counted.map(\.status)).subtracting(["-"]).sorted()
            let note =
                "\(entry.date) bounced: \(statuses.isEmpty ? "no status" : statuses.joined(separator: ","))"
                + " on \(days.joined(separator: ",")) (\(reason))"
            let added = try suppress.add(SuppressionList.Entry(address: entry.address, note: note))
            lines.removeAll { line in Entry(line: line[...]).map { SuppressionList.key($0.address) == key } ?? false }
            outcome = .suppressed(note: note, added: added)
            return true
        }
        return outcome
    }

    /// `2026-12-02` for `time`, in UTC.
    public static func date(_ time: Timestamp) -> String {
        String(SpoolLog.isoTime(time).prefix(10))
    }

    /// The day number (days since 1970-01-01) of a `YYYY-MM-DD` date, or nil.
    static func day(of text: Substring) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month - 1)
        fields.tm_mday = Int32(day)
        return Int(timegm(&fields)) / 86_400
    }
}
