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
