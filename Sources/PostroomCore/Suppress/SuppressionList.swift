import Synchronization

/// The spool's `suppress` file: addresses that must not be mailed again.
///
/// A plain text file, one entry per line, that an administrator may also edit by hand:
///
/// ```
/// # address               [list=LIST]              date        reason
/// ada@example.org                                  2026-11-01  unsubscribed (one-click)
/// kid@example.com         list=s1234-students@site 2026-12-02  unsubscribed
/// bob@example.net                                  2026-12-02  bounced: 5.1.1 on 2026-12-02 (550 5.1.1 no such user)
/// ```
///
/// The first word is the address. A second word `list=ADDRESS` scopes the entry to that list:
/// only copies of that list skip the address. Everything after that (a date, a reason) is a note
/// for people. Lines starting with `#` and blank lines are ignored; matching ignores case and
/// angle brackets.
public struct SuppressionList: Sendable {
    /// One line of the file.
    public struct Entry: Sendable, Equatable {
        /// The address, as written.
        public var address: String
        /// The list the entry is scoped to, or nil for everywhere.
        public var list: String?
        /// The rest of the line: date and reason.
        public var note: String

        /// An entry from parts.
        public init(address: String, list: String? = nil, note: String = "") {
            self.address = address
            self.list = list
            self.note = note
        }

        /// Parses a line; nil for comments and blank lines.
        public init?(line: Substring) {
            let words = line.split(maxSplits: 2, whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first, !first.hasPrefix("#") else { return nil }
            address = String(first)
            var rest = words.dropFirst()
            if let scope = rest.first, scope.lowercased().hasPrefix("list="), scope.count > 5 {
                list = String(scope.dropFirst(5))
                rest = rest.dropFirst()
            }
            note = rest.joined(separator: " ").trimmingSpaces
        }

        /// The line as written to the file.
        public var line: String {
            var words = [address]
            if let list { words.append("list=\(list)") }
            if !note.isEmpty { words.append(note) }
            return words.joined(separator: " ")
        }

        /// Whether this entry keeps `address` from being mailed by `list` (nil: bulk mail).
        public func covers(_ address: String, list: String?) -> Bool {
            guard SuppressionList.key(self.address) == SuppressionList.key(address) else { return false }
            guard let scope = self.list else { return true }
            return list.map { SuppressionList.key($0) == SuppressionList.key(scope) } ?? false
        }
    }

    /// The entries, in file order.
    public let entries: [Entry]
    private let everywhere: Set<String>
    private let scoped: Set<String>

    /// Reads the list at `path`; a missing file is an empty list.
    public init(path: String) throws(PostroomError) {
        self.init(entries: try LockedTextFile(path: path).lines().compactMap(Entry.init(line:)))
    }

    /// A list from text.
    public init(text: String) {
        self.init(entries: LockedTextFile.split(Array(text.utf8)).compactMap(Entry.init(line:)))
    }

    private init(entries: [Entry]) {
        self.entries = entries
        var everywhere = Set<String>()
        var scoped = Set<String>()
        for entry in entries {
            if let list = entry.list {
                scoped.insert(Self.key(list) + "\n" + Self.key(entry.address))
            } else {
                everywhere.insert(Self.key(entry.address))
            }
        }
        self.everywhere = everywhere
        self.scoped = scoped
    }

    /// Whether `address` must not be mailed: by anything (`list` nil), or as a member of `list`.
    public func contains(_ address: String, list: String? = nil) -> Bool {
        let key = Self.key(address)
        if everywhere.contains(key) { return true }
        guard let list else { return false }
        return scoped.contains(Self.key(list) + "\n" + key)
    }

    /// How many entries there are.
    public var count: Int { entries.count }

    /// The form addresses are compared in: trimmed, lower case, without angle brackets.
    package static func key(_ address: String) -> String {
        var text = address.trimmingSpaces.lowercased()
        if text.hasPrefix("<") && text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        return text
    }
}

/// Changes to the spool's `suppress` file, serialised with a lock (see `LockedTextFile`).
public struct SuppressFile: Sendable {
    /// The file's path.
    public let path: String
    private var file: LockedTextFile { LockedTextFile(path: path) }

    /// The `suppress` file of `spool`.
    public init(spool: Spool) { path = spool.suppressPath }

    /// The file at `path`.
    public init(path: String) { self.path = path }

    /// The list as it is now.
    public func read() throws(PostroomError) -> SuppressionList { try SuppressionList(path: path) }

    /// Adds `entry` unless an entry already covers it (an address suppressed everywhere is not
    /// added again for one list). Returns whether the file changed.
    @discardableResult
    public func add(_ entry: SuppressionList.Entry) throws(PostroomError) -> Bool {
        try file.update { lines throws(PostroomError) in
            let covered = lines.lazy.compactMap { SuppressionList.Entry(line: $0[...]) }.contains {
                $0.covers(entry.address, list: entry.list)
            }
            guard !covered else { return false }
            lines.append(entry.line)
            return true
        }
    }

    /// Removes the entries for `address`: the global one and every scoped one when `list` is nil,
    /// else only the one scoped to `list`. Returns how many lines went.
    @discardableResult
    public func remove(_ address: String, list: String? = nil) throws(PostroomError) -> Int {
        var removed = 0
        let key = SuppressionList.key(address)
        try file.update { lines throws(PostroomError) in
            lines.removeAll { line in
                guard let entry = SuppressionList.Entry(line: line[...]), SuppressionList.key(entry.address) == key
                else { return false }
                let matches =
                    list == nil || entry.list.map { SuppressionList.key($0) == SuppressionList.key(list ?? "") } == true
                if matches { removed += 1 }
                return matches
            }
            return removed > 0
        }
        return removed
    }
}

extension SuppressionList {
    /// The entry that keeps `address` from being mailed (by anything, or as a member of `list`),
    /// or nil.
    public func entry(for address: String, list: String? = nil) -> Entry? {
        guard contains(address, list: list) else { return nil }
        return entries.last { $0.covers(address, list: list) }
    }
}

/// The `suppress` file as it is now, for a long-running program (`deliver --watch`): read again
/// whenever the file was replaced or changed, checked with one `stat(2)`.
public final class SuppressionWatch: Sendable {
    private let path: String
    private let state = Mutex<(stamp: [Int], list: SuppressionList)>(([], SuppressionList(text: "")))

    /// Watches the file at `path` (a missing file is an empty list).
    public init(path: String) { self.path = path }

    /// The list as the file is now.
    public func current() throws(PostroomError) -> SuppressionList {
        let stamp =
            FileSystem.status(path).map {
                [Int($0.st_ino), $0.st_mtim.tv_sec, $0.st_mtim.tv_nsec, Int($0.st_size)]
            } ?? [-1]
        if let known = state.withLock({ $0.stamp == stamp ? $0.list : nil }) { return known }
        let list = try SuppressionList(path: path)
        state.withLock { $0 = (stamp, list) }
        return list
    }
}
