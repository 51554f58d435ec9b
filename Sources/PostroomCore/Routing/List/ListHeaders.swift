/// The header section of a list's copies: everything but List-Unsubscribe is the same for
/// every member, so it is built once per post and each member's copy only appends its own
/// List-Unsubscribe (RFC 2369, RFC 8058) to those bytes.
///
/// The shared part is the post's header with: the list's List-Id (RFC 2919), List-Post,
/// List-Help and List-Archive, `Precedence: list` and this site's X-Loop (a post's own List-*
/// and Precedence fields are replaced, another site's X-Loop is kept so its loop check still
/// works); the subject tagged; From, Reply-To, To and Cc per the list's options; Bcc,
/// Return-Path and postroom's control fields removed. Message-ID is kept so replies thread.
struct ListHeaders: Sendable {
    /// The list's address (the routed recipient).
    let list: String
    /// The shared fields, without the blank line that ends the header.
    let shared: [UInt8]
    private let unsubscribe: Unsubscribe?
    /// When the members' unsubscribe tokens are issued.
    private let issued: Timestamp

    init(
        message: IncomingMessage, list: String, settings: ListSettings, poster: ListPoster, rewriteFrom: Bool,
        loopID: String, unsubscribe: Unsubscribe?, issued: Timestamp
    ) throws(PostroomError) {
        var header = message.message
        header.body = []
        header.removeInternalFields()
        header.remove("Return-Path")
        header.removeAll { $0.name.lowercased().hasPrefix("list-") || $0.hasName("Precedence") }
        header.removeAll { $0.hasName("X-Loop") && $0.value.lowercased() == loopID.lowercased() }

        let (local, domain) = IncomingMessage.split(list)
        let listName = settings.name ?? local
        let listMailbox = Mailbox(localPart: local, domain: domain)

        if !settings.subjectTag.isEmpty {
            let subject = header.decodedValue(of: "Subject")
            let tagged = settings.subjectTag.apply(to: subject)
            if tagged != subject || header.values(of: "Subject").count != 1 { try header.set("Subject", tagged) }
        }
        if !settings.keepToCc {
            header.remove("Cc")
            try header.set("To", listMailbox.address)
        }
        var replyTo: String?
        switch settings.replyTo {
        case .list: replyTo = listMailbox.address
        case .poster: replyTo = poster.replyAddress
        case .keep: replyTo = nil
        }
        if rewriteFrom {
            let name = "\(poster.displayName) via \(listName)"
            try header.set("From", Mailbox(displayName: name, localPart: local, domain: domain).formatted)
            header.remove("Sender")
            if settings.posterTo == .replyTo && settings.replyTo != .list {
                // With reply_to=keep the poster's own Reply-To, if any, already leads to them.
                if settings.replyTo == .poster || poster.replyTo == nil { replyTo = poster.replyAddress }
            } else {
                try Self.addCc(poster.mailbox, to: &header)
            }
        }
        if let replyTo { try header.set("Reply-To", replyTo) }

        try header.append("List-Id", Self.listIDField(settings: settings, local: local, domain: domain))
        try header.append("List-Post", "<mailto:\(listMailbox.address)>")
        if let help = settings.help { try header.append("List-Help", "<\(help)>") }
        if let archive = settings.archive { try header.append("List-Archive", "<\(archive)>") }
        try header.append("Precedence", "list")
        try header.append("X-Loop", loopID)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(header.fields.reduce(0) { $0 + $1.raw.count } + 512)
        for field in header.fields { bytes.append(contentsOf: field.raw) }
        self.list = list
        self.shared = bytes
        self.unsubscribe = unsubscribe
        self.issued = issued
    }

    /// The whole header section of `member`'s copy, ending with the blank line.
    func header(for member: String) throws(PostroomError) -> [UInt8] {
        var bytes = shared
        if let unsubscribe {
            let value = unsubscribe.header(for: member, list: list.lowercased(), issued: issued)
            bytes.reserveCapacity(shared.count + value.utf8.count + 80)
            try Self.appendUnsubscribe(value, to: &bytes)
            if unsubscribe.supportsOneClick { bytes.append(contentsOf: Self.oneClick) }
        }
        bytes.append(10)
        return bytes
    }

    /// `List-Unsubscribe: <link>, <link>`, each link on its own line when they do not fit on one.
    /// Written here rather than by `HeaderWriter` because it is done once per member; the links
    /// are postroom's own (percent-encoded, no spaces or line breaks).
    static func appendUnsubscribe(_ value: String, to bytes: inout [UInt8]) throws(PostroomError) {
        let links = value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).map {
            $0.drop { $0 == 32 }
        }
        guard links.allSatisfy({ $0.count < HeaderWriter.maximumLineLength - 20 }) else {
            bytes.append(contentsOf: try HeaderWriter.field("List-Unsubscribe", value).raw)
            return
        }
        let name = Array("List-Unsubscribe:".utf8)
        bytes.append(contentsOf: name)
        let fits = name.count + value.utf8.count + 1 <= HeaderWriter.preferredLineLength
        for (index, link) in links.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            if index > 0 && !fits { bytes.append(10) }
            bytes.append(32)
            bytes.append(contentsOf: link)
        }
        bytes.append(10)
    }

    /// The List-Id value: `"Name" <list_id>`, the list-id from `list_id=` or `local.domain`.
    static func listIDField(settings: ListSettings, local: String, domain: String) -> String {
        let id = settings.listID ?? derivedListID(local: local, domain: domain)
        guard let name = settings.name else { return "<\(id)>" }
        return "\(AddressSyntax.phrase(name)) <\(id)>"
    }

    /// `S1234-students@Site.org` gives `s1234-students.site.org`: lower case, so that the id
    /// members filter on stays the same whatever case the MTA passed the address in.
    static func derivedListID(local: String, domain: String) -> String {
        let text = "\(local).\(domain)".lowercased()
        var out = ""
        for scalar in text.unicodeScalars {
            let keep = scalar.isASCII && (AddressSyntax.isAtext(UInt8(scalar.value)) || scalar == ".")
            out.unicodeScalars.append(keep ? scalar : "-")
        }
        return out
    }

    private static let oneClick = Array("List-Unsubscribe-Post: List-Unsubscribe=One-Click\n".utf8)

    private static func addCc(_ mailbox: String, to header: inout Message) throws(PostroomError) {
        let existing = header.values(of: "Cc").filter { !$0.isEmpty }
        try header.set("Cc", (existing + [mailbox]).joined(separator: ", "))
    }
}
