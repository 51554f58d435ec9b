import Glibc

/// A message sent earlier, found by its spool name alone (from a Message-ID or a VERP address),
/// and flagged where it lies in `sent/cur/`.
///
/// `sent/cur/` may hold 100,000 files, so the names a file most likely has are tried first
/// (one `stat(2)` each) and the directory is read only when they all miss; that read also takes
/// a name that differs only in case, since some MTAs lowercase the local part a bounce comes back
/// to. Flags are added by one rename within `sent/cur/`; a rename that finds its source gone lost
/// a race with another `mark` or `deliver` and looks again.
public enum SentFile {
    /// The flag sets a file in `sent/cur/` most often has: L (loopback sent), C (confirmed),
    /// B (bounced), W (delayed), in the combinations mark makes.
    public static let likelyFlags = ["L", "", "CL", "BL", "B", "LW", "W", "BCL", "CLW"]

    /// Where a message is now.
    public enum Place: Sendable, Equatable {
        /// In `sent/cur/` under this name.
        case sent(MessageName)
        /// Still in `outgoing/`: claimed by a live `deliver` (being sent now), or not.
        case outgoing(claimed: Bool)
        /// In another queue (`deferred`, `failed`, `held`, ...).
        case queue(Spool.Queue)
        /// Nowhere in the spool (pruned from `sent/`, deleted, or never ours).
        case gone
    }

    /// What `addFlag` did.
    public enum FlagChange: Sendable, Equatable {
        /// The flag was added: the file's name before and after, and its mtime (when `deliver`
        /// sent it), as Unix seconds with a fraction.
        case added(from: MessageName, to: MessageName, sentAt: Double)
        /// The file already had the flag; nothing changed.
        case alreadySet(MessageName)
        /// The message is not in `sent/`; nothing changed.
        case notSent(Place)
    }

    /// Where the message named `base` is. `likelyFlags` are the flag sets tried in `sent/cur/`
    /// before the directory is read (`["L", "", "CL"]`).
    public static func locate(
        _ base: String, in spool: Spool, likelyFlags: [String]
    ) throws(PostroomError) -> Place {
        let sent = spool.maildir(.sent)
        for flags in likelyFlags {
            let name = MessageName(base: base, flags: flags).withInfo()
            if FileSystem.exists(sent.path(of: name, in: .cur)) { return .sent(name) }
        }
        // Checked before sent/ is read: a deliver moving it meanwhile is then found there.
        let outgoing = spool.maildir(.outgoing)
        if let name = try find(base, in: outgoing.path(of: .cur)) {
            return .outgoing(claimed: Claim.isHeld(outgoing.path(of: name, in: .cur)))
        }
        if let name = try find(base, in: sent.path(of: .cur)) { return .sent(name) }
        if try find(base, in: outgoing.path(of: .new)) != nil { return .outgoing(claimed: false) }
        for queue in [Spool.Queue.deferred, .failed, .held, .sent] {
            for folder in [Maildir.Folder.new, .cur] where !(queue == .sent && folder == .cur) {
                if try find(base, in: spool.maildir(queue).path(of: folder)) != nil { return .queue(queue) }
            }
        }
        return .gone
    }

    /// Adds `flag` to the message named `base` in `sent/cur/` with one rename, and syncs the
    /// directory (the change survives a power cut once this returns).
    public static func addFlag(
        _ flag: Character, to base: String, in spool: Spool, likelyFlags: [String]
    ) throws(PostroomError) -> FlagChange {
        let directory = spool.maildir(.sent).path(of: .cur)
        // Each lost race means another process renamed the file; a few in a row is already odd.
        for _ in 0..<16 {
            let place = try locate(base, in: spool, likelyFlags: likelyFlags)
            guard case .sent(let name) = place else { return .notSent(place) }
            if name.has(flag) { return .alreadySet(name) }
            let path = "\(directory)/\(name.fileName)"
            guard let info = FileSystem.status(path) else { continue }
            let flagged = name.adding(flag)
            guard try FileSystem.rename(path, "\(directory)/\(flagged.fileName)") else { continue }
            try FileSystem.syncDirectory(directory)
            let sentAt = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
            return .added(from: name, to: flagged, sentAt: sentAt)
        }
        throw .temporary("\(base) in \(directory) kept changing its name while flag \(flag) was being added")
    }

    /// The name of the file for `base` in `directory`, by reading the directory: the exact base,
    /// else one that differs only in case.
    private static func find(_ base: String, in directory: String) throws(PostroomError) -> MessageName? {
        let folded = base.lowercased()
        var caseless: MessageName?
        for fileName in try DirectoryStream(path: directory).checked() {
            let name = MessageName(fileName: fileName)
            if name.base == base { return name }
            if caseless == nil, name.base.count == base.count, name.base.lowercased() == folded { caseless = name }
        }
        return caseless
    }

    /// The envelope recipient of the file at `path` (`X-Postroom-Envelope-To`), if it says.
    public static func envelopeRecipient(ofFileAt path: String) -> String? {
        guard let stored = try? StoredMessage.open(path, headerLimit: 1 << 20),
            let recipient = stored.header.control(.envelopeTo)
        else { return nil }
        // Written as a path, `<a@b>`: the address alone goes into logs and suppress.
        return (try? AddressParser.parsePath(recipient))?.address ?? recipient
    }
}
