/// What `postroom suppress add|remove|list|check` do with the spool's `suppress` file; the
/// command itself only parses its arguments and prints.
///
/// Changes go through `SuppressFile` (under its lock, one rename) and are logged in the spool's
/// `log` like every other change: `to=<a@b>, status=suppressed (by postroom suppress: REASON)`.
public struct SuppressionCommands {
    /// The spool whose `suppress` file is managed.
    public let spool: Spool
    /// The clock, for the date written in new entries.
    public var now: @Sendable () -> Timestamp = { .now() }

    /// Commands on `spool`.
    public init(spool: Spool) { self.spool = spool }

    /// Adds `address` (for `list` only, when given) with `reason`; returns the line for the
    /// terminal. An address already covered is left alone.
    public func add(_ address: String, list: String?, reason: String?) throws(PostroomError) -> String {
        let address = try Self.plainAddress(address, what: "address")
        let list = try list.map { (text) throws(PostroomError) in try Self.plainAddress(text, what: "--list") }
        let date = String(SpoolLog.isoTime(now()).prefix(10))
        let why = HeaderWriter.sanitized(reason ?? "").trimmingSpaces
        let entry = SuppressionList.Entry(
            address: address, list: list, note: "\(date) " + (why.isEmpty ? "added by postroom suppress" : why))
        let file = SuppressFile(spool: spool)
        guard try file.add(entry) else {
            let covering = try file.read().entries.filter { $0.covers(address, list: list) }
            return "\(address) is already suppressed: \(covering.map(\.line).joined(separator: "; "))\n"
        }
        let log = try SpoolLog(path: spool.logPath, program: "postroom", echo: false)
        log.record(
            nil, ["to": "<\(address)>"], status: "suppressed",
            detail: (list.map { "list=\($0), " } ?? "") + "by postroom suppress" + (why.isEmpty ? "" : ": \(why)"))
        try log.sync()
        return "added \(entry.line)\n"
    }

    /// Removes the entries for `address` (only the one scoped to `list`, when given); returns
    /// the line for the terminal.
    public func remove(_ address: String, list: String?) throws(PostroomError) -> String {
        let removed = try SuppressFile(spool: spool).remove(address, list: list)
        let scope = list.map { " for \($0)" } ?? ""
        guard removed > 0 else { return "\(address) was not suppressed\(scope): nothing removed\n" }
        let log = try SpoolLog(path: spool.logPath, program: "postroom", echo: false)
        log.record(
            nil, ["to": "<\(SuppressionList.key(address))>"], status: "unsuppressed",
            detail: (list.map { "list=\($0), " } ?? "") + "\(removed) entr\(removed == 1 ? "y" : "ies") removed")
        try log.sync()
        return "removed \(removed) entr\(removed == 1 ? "y" : "ies") for \(address)\(scope)\n"
    }

    /// The entries, as the file has them (normalised spacing) or as a JSON array of objects
    /// `{"address", "list", "note"}` (list null for an entry that applies everywhere); with
    /// `list`, only the entries that keep mail of that list from someone.
    public func list(scope list: String?, json: Bool) throws(PostroomError) -> String {
        var entries = try SuppressFile(spool: spool).read().entries
        if let list {
            entries = entries.filter { entry in
                entry.list.map { SuppressionList.key($0) == SuppressionList.key(list) } ?? true
            }
        }
        guard json else { return entries.map { $0.line + "\n" }.joined() }
        let objects = entries.map { entry in
            "  {\"address\": \(JSONText.quoted(entry.address)), \"list\": "
                + (entry.list.map(JSONText.quoted) ?? "null") + ", \"note\": \(JSONText.quoted(entry.note))}"
        }
        return objects.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    /// The entries that keep `address` from being mailed (by `list`, when given; else by bulk
    /// mail), in file order: empty when it may be mailed.
    public func check(_ address: String, list: String?) throws(PostroomError) -> [SuppressionList.Entry] {
        try SuppressFile(spool: spool).read().entries.filter { $0.covers(address, list: list) }
    }

    /// `text` as one plain address (angle brackets dropped), or a usage error saying why not:
    /// the file's lines start with the address, so a space in one would break it.
    static func plainAddress(_ text: String, what: String) throws(PostroomError) -> String {
        var address = text.trimmingSpaces
        if address.hasPrefix("<") && address.hasSuffix(">") { address = String(address.dropFirst().dropLast()) }
        guard AddressParser.isValidAddress(address), !address.contains(where: \.isWhitespace) else {
            throw .usage("\(what) \"\(text)\" is not a plain address (local@domain)")
        }
        return address
    }
}
