import Glibc

/// A list's member file: who receives a post (and, with `posters=FILE`, who may send one).
///
/// One member per line, in the form Python's `email.utils.formataddr` writes and every mail
/// client shows: `Ann Example <ann@example.org>`, `"Example, Ann" <ann@example.org>`, or a bare
/// `ann@example.org`. Lines starting with `#` and blank lines are ignored; a line that is not
/// one plain address is a problem (reported by `route --check`, skipped when routing). An
/// address listed twice (in any case) counts once, at its first line.
public struct ListMembers: Sendable {
    /// One member.
    public struct Member: Sendable, Equatable {
        /// The address mail goes to.
        public let address: String
        /// The display name from the file, if any.
        public let displayName: String?
        /// The line of the file it came from.
        public let line: Int
    }

    /// The file the members were read from (after the case-insensitive lookup).
    public let path: String
    /// The members in file order, each address once.
    public let members: [Member]
    /// Lines that could not be read, with their line number.
    public let problems: [(line: Int, text: String)]
    private let keys: Set<String>

    /// Parses the text of a member file.
    public init(text: [UInt8], path: String) {
        var members: [Member] = []
        var problems: [(line: Int, text: String)] = []
        var keys = Set<String>()
        var lineNumber = 0
        for rawLine in text.split(separator: 10, omittingEmptySubsequences: false) {
            lineNumber += 1
            // A file written on Windows ends its lines with CR LF.
            let line = HeaderField.text(Array(rawLine.last == 13 ? rawLine.dropLast() : rawLine)).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            switch Self.parse(line) {
            case .success(let mailbox):
                guard keys.insert(Self.key(mailbox.address)).inserted else { continue }
                members.append(Member(address: mailbox.address, displayName: mailbox.displayName, line: lineNumber))
            case .failure(let reason):
                problems.append((lineNumber, "\(path) line \(lineNumber): \(reason)"))
            }
        }
        self.path = path
        self.members = members
        self.problems = problems
        self.keys = keys
    }

    /// Reads the member file at `path`, or the one whose name differs only in case (MTAs
    /// lowercase local parts, so `lists/s1234-students` finds `lists/S1234-students`).
    /// Nil when there is no such file: the list does not exist. Other errors are thrown.
    public static func load(_ path: String) throws(PostroomError) -> ListMembers? {
        guard let found = try locate(path) else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(found)
        } catch {
            // The web app replaces files by rename; a file gone since the lookup is no list.
            if case .io(_, _, let code) = error, code == ENOENT { return nil }
            throw error
        }
        return ListMembers(text: bytes, path: found)
    }

    /// The path of an existing file named `path`, matching the file name without regard to case
    /// when the exact name does not exist; nil when there is none.
    public static func locate(_ path: String) throws(PostroomError) -> String? {
        if let info = FileSystem.status(path) {
            guard info.st_mode & S_IFMT != S_IFDIR else {
                throw .configuration(location: path, reason: "a list's member file is a directory")
            }
            return path
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let wanted = FileSystem.baseName(path).lowercased()
        guard let handle = opendir(directory.isEmpty ? "/" : directory) else { return nil }
        defer { closedir(handle) }
        var matches: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if entry.pointee.d_type != UInt8(DT_DIR), name.lowercased() == wanted { matches.append(name) }
        }
        // Two names differing only in case: take one deterministically.
        return matches.min().map { "\(directory)/\($0)" }
    }

    /// Whether `address` is a member (ignoring case).
    public func contains(_ address: String) -> Bool {
        keys.contains(Self.key(address))
    }

    /// The key addresses are compared by: the whole address in lower case.
    static func key(_ address: String) -> String { address.lowercased() }

    /// One line as a mailbox, or why it is not one.
    static func parse(_ line: String) -> Result<Mailbox, ListLineError> {
        if let mailbox = quickParse(line) { return .success(mailbox) }
        let mailbox: Mailbox
        do {
            mailbox = try Mailbox(parsing: line)
        } catch {
            return .failure(ListLineError("\"\(line.escapingControls)\" is not an address: \(error.description)"))
        }
        if let problem = Envelope.problem(in: mailbox.address) {
            return .failure(ListLineError("\(mailbox.address.escapingControls) cannot be mailed to: \(problem)"))
        }
        return .success(mailbox)
    }
}

extension ListMembers {
    /// The common lines, `a@b` and `Plain Name <a@b>`, without the full RFC 5322 parser
    /// (a 5,000-member file is read for every post); nil for anything else, which the parser
    /// then reads.
    static func quickParse(_ line: String) -> Mailbox? {
        let bytes = Array(line.utf8)
        var name: String?
        var address = bytes[...]
        if bytes.last == UInt8(ascii: ">"), let open = bytes.lastIndex(of: UInt8(ascii: "<")) {
            let phrase = bytes[..<open]
            guard phrase.allSatisfy({ isPlain($0) || $0 == 32 }) else { return nil }
            let trimmed = String(decoding: phrase, as: UTF8.self).trimmingSpaces
            guard !trimmed.contains("=?") else { return nil }
            name = trimmed.isEmpty ? nil : trimmed
            address = bytes[(open + 1)..<(bytes.count - 1)]
        }
        guard address.allSatisfy({ isPlain($0) || $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: ".") }) else {
            return nil
        }
        let text = String(decoding: address, as: UTF8.self)
        guard Envelope.problem(in: text) == nil else { return nil }
        let (local, domain) = IncomingMessage.split(text)
        return Mailbox(displayName: name, localPart: local, domain: domain)
    }

    /// ASCII atext: letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    private static func isPlain(_ byte: UInt8) -> Bool {
        byte < 128 && MessageName.isAtext(byte)
    }
}

/// Why a line of a member file is not a member.
struct ListLineError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
