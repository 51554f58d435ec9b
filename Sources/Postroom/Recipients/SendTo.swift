/// Whom each recipient's copies go to: the person, their guardian, their emergency contact.
public struct SendTo: Sendable, Equatable, CustomStringConvertible {
    /// One kind of copy.
    public enum Copy: String, Sendable, CaseIterable {
        /// The recipient's own address.
        case `self`
        /// The guardian's address, rendered with the recipient's data.
        case guardian
        /// The emergency contact's address, rendered with the recipient's data.
        case emergency
    }

    /// The chosen copies, always in the order self, guardian, emergency.
    public let copies: [Copy]

    /// Parses `self`, `guardian`, `emergency` or a comma-separated combination.
    public init(parsing text: String) throws(PostroomError) {
        var chosen = Set<Copy>()
        for word in text.split(separator: ",").map({ String($0).trimmingSpaces.lowercased() }) where !word.isEmpty {
            guard let copy = Copy(rawValue: word) else {
                throw .usage(
                    "unknown send-to mode \"\(word)\"; valid modes are self, guardian and emergency, comma-separated (self,guardian)"
                )
            }
            chosen.insert(copy)
        }
        guard !chosen.isEmpty else {
            throw .usage("no send-to mode given; use self, guardian, emergency or a combination")
        }
        copies = Copy.allCases.filter(chosen.contains)
    }

    /// Only the recipient's own copy.
    public static let selfOnly = SendTo(copies: [.self])

    private init(copies: [Copy]) { self.copies = copies }

    public var description: String { copies.map(\.rawValue).joined(separator: ",") }
}

/// The spool's `suppress` file: addresses that must not be mailed again.
///
/// One address per line; anything after whitespace on the line (a date, a reason) and
/// lines starting with `#` are ignored. Matching ignores case.
public struct SuppressionList: Sendable {
    private let addresses: Set<String>

    /// Reads the list at `path`; a missing file is an empty list.
    public init(path: String) throws(PostroomError) {
        guard FileSystem.exists(path) else {
            self.init(text: "")
            return
        }
        self.init(text: String(decoding: try FileSystem.readFile(path), as: UTF8.self))
    }

    /// A list from text.
    public init(text: String) {
        var set = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = String(line).trimmingSpaces
            guard !trimmed.hasPrefix("#"), let first = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            else { continue }
            set.insert(Self.key(String(first)))
        }
        addresses = set
    }

    /// Whether `address` must not be mailed.
    public func contains(_ address: String) -> Bool { addresses.contains(Self.key(address)) }

    /// How many addresses are listed.
    public var count: Int { addresses.count }

    static func key(_ address: String) -> String {
        var text = address.trimmingSpaces.lowercased()
        if text.hasPrefix("<") && text.hasSuffix(">") { text = String(text.dropFirst().dropLast()) }
        return text
    }
}
