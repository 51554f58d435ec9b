/// A message file in `sent/cur`, found by its spool name, and the flags `mark` sets on it.
///
/// The name to look for comes from a VERP address or a Message-ID, without the file's
/// flags, so the exact names it may have (every combination of the flags postroom sets) are
/// tried first, then `sent/cur` is read for a name that differs only in case: some MTAs
/// lowercase the local part a bounce comes back to.
struct SentFile {
    /// The file's name as found.
    let name: MessageName
    /// Its path.
    let path: String

    /// The flags postroom sets on files in `sent/` (L loopback sent, C confirmed, B bounced, W delayed).
    static let knownFlags: [Character] = ["B", "C", "L", "W"]

    /// The file in `spool`'s `sent/cur` whose base name is `name`'s, or nil.
    static func find(_ name: MessageName, in spool: Spool) -> SentFile? {
        let sent = spool.maildir(.sent)
        for subset in 0..<(1 << knownFlags.count) {
            let flags = String(knownFlags.enumerated().filter { subset & (1 << $0.offset) != 0 }.map(\.element))
            for candidate in [MessageName(base: name.base, flags: flags)] + (subset == 0 ? [name.withInfo()] : []) {
                let path = sent.path(of: candidate, in: .cur)
                if FileSystem.exists(path) { return SentFile(name: candidate, path: path) }
            }
        }
        let wanted = name.base.lowercased()
        for fileName in sent.names(in: .cur) {
            let found = MessageName(fileName: fileName)
            if found.base.lowercased() == wanted {
                return SentFile(name: found, path: sent.path(of: found, in: .cur))
            }
        }
        return nil
    }

    /// Sets `flag` on the file by one rename within `sent/cur`. A lost race (another `mark`
    /// renamed it first) finds the file again and retries. Returns the file as it now is, or
    /// nil when it is gone.
    static func flag(_ flag: Character, on name: MessageName, in spool: Spool) throws(PostroomError) -> SentFile? {
        for _ in 0..<8 {
            guard let file = find(name, in: spool) else { return nil }
            if file.name.has(flag) { return file }
            let flagged = file.name.adding(flag)
            let target = spool.maildir(.sent).path(of: flagged, in: .cur)
            if try FileSystem.rename(file.path, target) {
                try FileSystem.syncDirectory(spool.maildir(.sent).path(of: .cur))
                return SentFile(name: flagged, path: target)
            }
        }
        throw .temporary("\(name.base) in sent/cur kept being renamed by others; try again")
    }

    /// The envelope recipient the file was sent to (`X-Postroom-Envelope-To`), if it says.
    func envelopeRecipient() -> String? {
        guard let stored = try? StoredMessage.open(path, headerLimit: 1 << 20) else { return nil }
        // Written as a path, `<a@b>`: the address alone goes into logs and suppress.
        guard let path = stored.header.control(.envelopeTo) else { return nil }
        return (try? AddressParser.parsePath(path))?.address ?? path
    }
}
