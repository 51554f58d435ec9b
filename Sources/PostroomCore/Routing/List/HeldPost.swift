/// A post the list's posting policy refused: the post itself for `held/`, and perhaps a notice
/// telling the poster it waits for a moderator.
///
/// The held copy is the post as it arrived (less any forged `X-Postroom-` field), its envelope the poster and the list, with
/// `X-Postroom-Held-Reason` saying why and `X-Postroom-Held-For` naming the list it was routed
/// for, so releasing it routes it there again. The notice (RFC 3834) comes from the list's
/// address with the null envelope sender and `Auto-Submitted: auto-replied`, and is never sent
/// in answer to mail that is itself automatic: `Auto-Submitted` other than `no`, a null
/// sender, `Precedence: bulk`, `list` or `junk`, or a List-Id.
struct HeldPost {
    /// The copies: the held post, then the notice when there is one.
    let copies: [RouteCopy]

    init(
        message: IncomingMessage, list: String, poster: ListPoster, reason: String, notify: Bool,
        listName: String, context: RouteContext
    ) throws(PostroomError) {
        let held = RouteCopy(
            destination: .held,
            envelope: try Envelope(sender: poster.envelopeSender, recipients: [list]),
            control: [(.heldReason, reason), (.heldFor, list)],
            header: Self.header(of: message), body: message.body,
            note: "held for \(list): \(reason)")
        var copies = [held]
        if notify, Self.mayAnswer(message), Envelope.problem(in: poster.envelopeSender) == nil {
            copies.append(
                try Self.notice(
                    to: poster.envelopeSender, message: message, list: list, listName: listName, context: context))
        }
        self.copies = copies
    }

    /// The post's header as it arrived, less any `X-Postroom-` field it came with: those are the
    /// spool's own and must not compete with the ones route writes.
    static func header(of message: IncomingMessage) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.bodyStart + 1)
        for field in message.message.fields where !ControlHeader.isControl(field.name) {
            bytes.append(contentsOf: field.raw)
        }
        bytes.append(10)
        return bytes
    }

    /// Whether an automatic answer to `message` is allowed (RFC 3834 section 2).
    static func mayAnswer(_ message: IncomingMessage) -> Bool {
        guard message.sender != nil else { return false }
        let header = message.message
        if let auto = header.value(of: "Auto-Submitted"),
            auto.lowercased().prefix(while: { $0 != ";" && $0 != " " }) != "no"
        {
            return false
        }
        for precedence in header.values(of: "Precedence")
        where ["bulk", "list", "junk"].contains(precedence.lowercased()) {
            return false
        }
        return !header.contains("List-Id")
    }

    /// The notice for the poster.
    static func notice(
        to poster: String, message: IncomingMessage, list: String, listName: String, context: RouteContext
    ) throws(PostroomError) -> RouteCopy {
        let (local, domain) = IncomingMessage.split(list)
        var notice = Message()
        let original = message.message
        let subject = original.decodedValue(of: "Subject").map(SubjectTag.clean) ?? ""
        try notice.append("From", Mailbox(displayName: listName, localPart: local, domain: domain).formatted)
        try notice.append("To", poster)
        try notice.append("Subject", "Your message to \(listName) awaits a moderator")
        try notice.append("Date", MessageDate.format(context.now.seconds))
        // Derived from the post's identity, so a retry of the same delivery makes the same notice.
        try notice.append("Message-ID", "<held.\(message.identity.prefix(32))@\(domain)>")
        if let id = original.value(of: "Message-ID"), !id.isEmpty, id.utf8.count < 900 {
            try notice.append("In-Reply-To", id)
            try notice.append("References", id)
        }
        try notice.append("Auto-Submitted", "auto-replied")
        try notice.append("X-Loop", context.loopID)
        try notice.append("MIME-Version", "1.0")
        try notice.append("Content-Type", "text/plain; charset=utf-8")
        try notice.append("Content-Transfer-Encoding", "8bit")
        var body = "Your message to \(list)"
        if !subject.isEmpty { body += "\nwith the subject \"\(subject)\"" }
        body += "\nwas not sent to the list: the list does not take posts from your address.\n"
        body += "It is held for the list's moderator, who may still send it on.\n"
        body += "If you are a member, post from the address you are subscribed with.\n"
        var header: [UInt8] = []
        for field in notice.fields { header.append(contentsOf: field.raw) }
        header.append(10)
        return RouteCopy(
            destination: .outgoing, envelope: try Envelope(sender: nil, recipients: [poster]), header: header,
            body: Array(body.utf8)[...], note: "notice to \(poster) that the post is held")
    }
}
