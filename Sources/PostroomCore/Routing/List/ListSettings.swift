/// The options of a `list` rule, checked and with their defaults.
///
/// The defaults suit a school program's class lists, where one post may reach thousands of
/// students: only members post, replies go to the poster alone, the poster's From is rewritten
/// only when the poster's domain would make receivers reject it.
public struct ListSettings: Sendable {
    /// Who may post: `posters=`.
    public enum Posters: Sendable, Equatable {
        /// Anyone at all.
        case anyone
        /// The list's members.
        case members
        /// The addresses in a file (the member file format), by path.
        case file(String)
    }

    /// Where Reply-To points: `reply_to=`.
    public enum ReplyTo: String, Sendable, CaseIterable {
        /// The list: a plain reply reaches every member.
        case list
        /// The poster (their own Reply-To, else their From): a plain reply is private.
        case poster
        /// Whatever the post had.
        case keep
    }

    /// When From is replaced by the list's address: `from_rewrite=`.
    public enum FromRewrite: String, Sendable, CaseIterable {
        /// When the poster's domain publishes DMARC `p=quarantine` or `p=reject`.
        case dmarc
        /// Always.
        case always
        /// Never.
        case never
    }

    /// Where the poster's address goes when From is rewritten: `poster_to=`.
    public enum PosterTo: String, Sendable, CaseIterable {
        /// Reply-To (unless Reply-To is the list's, then Cc).
        case replyTo = "reply-to"
        /// Cc.
        case cc
    }

    /// The member file as written in the rule, for log lines.
    public let memberFile: String
    /// The member file's path (relative to the rule table's directory).
    public let memberPath: String
    /// The subject tag and site prefix: `tag=`, `prefix=`.
    public let subjectTag: SubjectTag
    /// Who may post: `posters=`, default `members`.
    public let posters: Posters
    /// Whether a poster whose post is held is told so: `notify=`, default no.
    public let notify: Bool
    /// Whether a post the policy refuses waits for a moderator (`nonmembers=hold`, the default) or
    /// is refused at once (`nonmembers=reject`: route exits 77 and the MTA returns it).
    public let rejectsRefusedPosts: Bool
    /// Whether the poster gets a copy of their own post: `self=`, default no.
    public let sendToSelf: Bool
    /// Whether the post's To and Cc stay: `to_cc=keep|remove`, default keep.
    public let keepToCc: Bool
    /// `reply_to=`, default `poster`.
    public let replyTo: ReplyTo
    /// `from_rewrite=`, default `dmarc`.
    public let fromRewrite: FromRewrite
    /// `poster_to=`, default `reply-to`.
    public let posterTo: PosterTo
    /// `list_id=`: the List-Id, without angle brackets; nil to derive it from the list's address.
    public let listID: String?
    /// `name=`: the list's display name (List-Id phrase, rewritten From); nil for its local part.
    public let name: String?
    /// `help=`: the List-Help URL.
    public let help: String?
    /// `archive=`: the List-Archive URL.
    public let archive: String?
    /// `arc=`: whether copies are ARC-sealed by deliver; nil (the default) for yes when a DKIM
    /// key of the list's domain is configured.
    public let arc: Bool?
    /// `require_signature=`: whether a post needs a valid DKIM signature aligned with its From
    /// domain (else it is held, as a refused poster's is); default no.
    public let requireSignature: Bool

    /// Every option a `list` rule accepts.
    public static let optionNames: Set<String> = [
        "tag", "prefix", "posters", "notify", "nonmembers", "self", "to_cc", "reply_to", "from_rewrite", "poster_to",
        "list_id",
        "name", "help", "archive", "arc", "require_signature",
    ]

    /// Reads a rule's arguments (the member file and the options).
    public init(_ arguments: RuleArguments) throws(PostroomError) {
        func fail(_ reason: String) -> PostroomError {
            .configuration(location: "rule table line \(arguments.line)", reason: reason)
        }
        guard arguments.positional.count == 1, let file = arguments.positional.first, !file.isEmpty else {
            throw fail("list takes one argument, the member file")
        }
        if let unknown = arguments.options.keys.sorted().first(where: { !Self.optionNames.contains($0) }) {
            throw fail("list has no option \(unknown)= (options: \(Self.optionNames.sorted().joined(separator: ", ")))")
        }
        memberFile = file
        memberPath = arguments.path(file)
        subjectTag = SubjectTag(tag: arguments.options["tag"] ?? "", prefix: arguments.options["prefix"] ?? "")
        switch arguments.options["posters"] {
        case nil, "members": posters = .members
        case "anyone": posters = .anyone
        case .some(let path) where !path.isEmpty: posters = .file(arguments.path(path))
        default: throw fail("posters= takes anyone, members or a file of addresses")
        }
        notify = try arguments.flag("notify", default: false)
        rejectsRefusedPosts = try arguments.choice("nonmembers", ["hold", "reject"], default: "hold") == "reject"
        sendToSelf = try arguments.flag("self", default: false)
        keepToCc = try arguments.choice("to_cc", ["keep", "remove"], default: "keep") == "keep"
        replyTo = try Self.choice(arguments, "reply_to", default: ReplyTo.poster)
        fromRewrite = try Self.choice(arguments, "from_rewrite", default: FromRewrite.dmarc)
        posterTo = try Self.choice(arguments, "poster_to", default: PosterTo.replyTo)
        if let id = arguments.options["list_id"] {
            guard Self.isListID(id) else {
                throw fail("list_id= must be a dot-atom with at least one dot, such as s1234-students.example.org")
            }
            listID = id
        } else {
            listID = nil
        }
        let name = arguments.options["name"].map { SubjectTag.clean($0) }
        self.name = name?.isEmpty == false ? name : nil
        help = try arguments.options["help"].map { (text) throws(PostroomError) in try Self.link(text, "help", fail) }
        archive = try arguments.options["archive"].map { (text) throws(PostroomError) in
            try Self.link(text, "archive", fail)
        }
        arc = arguments.options["arc"] == nil ? nil : try arguments.flag("arc", default: true)
        requireSignature = try arguments.flag("require_signature", default: false)
    }

    private static func choice<Value: RawRepresentable & CaseIterable>(
        _ arguments: RuleArguments, _ key: String, default defaultValue: Value
    ) throws(PostroomError) -> Value where Value.RawValue == String {
        let text = try arguments.choice(key, Value.allCases.map(\.rawValue), default: defaultValue.rawValue)
        return Value(rawValue: text) ?? defaultValue
    }

    /// RFC 2919: `list-label "." list-id-namespace`, ASCII dot-atom text.
    static func isListID(_ text: String) -> Bool {
        text.contains(".") && text.utf8.allSatisfy { $0 < 128 } && AddressSyntax.isDotAtom(text)
    }

    /// A List-Help or List-Archive target: an https, http or mailto URL, or an address (made mailto:).
    static func link(
        _ text: String, _ key: String, _ fail: (String) -> PostroomError
    ) throws(PostroomError) -> String {
        let allowed = text.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
        if allowed, text.hasPrefix("https://") || text.hasPrefix("http://") || text.hasPrefix("mailto:") {
            return text
        }
        if allowed, AddressParser.isValidAddress(text) { return "mailto:\(text)" }
        throw fail("\(key)= takes an https:, http: or mailto: URL or an address, not \"\(text.escapingControls)\"")
    }
}
