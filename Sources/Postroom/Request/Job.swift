/// One envelope recipient's job in `expanded/`: who gets which copy of which request.
///
/// A job is a header-only message of control fields; the template and attachments stay
/// in the request (kept in `request/cur/` once expanded), so 10,000 jobs do not carry
/// 10,000 copies of an attachment.
public struct Job: Sendable {
    /// The request's name (its base, without flags).
    public var request: String
    /// Which copy this is.
    public var copy: SendTo.Copy
    /// The envelope recipient.
    public var envelopeTo: String
    /// The display name for To (may be empty).
    public var toName: String
    /// The recipient's record: `user` in templates (for every copy, the student's).
    public var recipient: JSONValue
    /// The line of the recipient list the job came from.
    public var line: Int

    /// A job from parts.
    public init(request: String, copy: SendTo.Copy, envelopeTo: String, toName: String, recipient: JSONValue, line: Int)
    {
        self.request = request
        self.copy = copy
        self.envelopeTo = envelopeTo
        self.toName = toName
        self.recipient = recipient
        self.line = line
    }

    /// The job's control fields.
    public var message: Message {
        var message = Message()
        message.setControl(.request, request)
        message.setControl(.copy, copy.rawValue)
        message.setControl(.envelopeTo, envelopeTo)
        message.setControl(.toName, toName)
        message.setControl(.recipient, recipient.serialized)
        return message
    }

    /// Whether `message` is a job (rather than a finished message): it carries its recipient's record.
    public static func isJob(_ message: Message) -> Bool { message.control(.recipient) != nil }

    /// Reads a job's control fields from `message`; `source` names it in errors.
    public init(_ message: Message, source: String) throws(PostroomError) {
        func fail(_ reason: String) -> PostroomError { .malformed(what: "job", location: source, reason: reason) }
        guard let request = message.control(.request) else { throw fail("no \(ControlHeader.request.rawValue) field") }
        guard let envelopeTo = message.control(.envelopeTo), !envelopeTo.isEmpty else {
            throw fail("no \(ControlHeader.envelopeTo.rawValue) field")
        }
        let copy = SendTo.Copy(rawValue: message.control(.copy) ?? "self") ?? .self
        let record =
            try message.control(.recipient).map { (text) throws(PostroomError) in
                try JSONValue.parse(Array(text.utf8), location: "\(source) \(ControlHeader.recipient.rawValue)")
            } ?? .object([])
        self.init(
            request: request, copy: copy, envelopeTo: envelopeTo, toName: message.control(.toName) ?? "",
            recipient: record, line: 0)
    }
}

/// What expanding one recipient list produces, event by event.
public enum ExpansionEvent: Sendable {
    /// A job to write.
    case job(Job)
    /// A copy not made, with the reason (suppressed, invalid address, duplicate, no contact).
    case skipped(line: Int, copy: SendTo.Copy, address: String, reason: SkipReason)

    /// Why a copy was not made.
    public enum SkipReason: String, Sendable {
        case suppressed
        case invalidAddress = "invalid address"
        case duplicate = "duplicate address"
        case noContact = "no address"
    }
}

extension Request {
    /// Walks the recipient list, applying the send-to modes, de-duplication per recipient,
    /// address checks and the suppression list. A malformed row stops the walk with its error.
    public func expansion(
        name: String, suppression: SuppressionList
    ) -> AnyIterator<Result<ExpansionEvent, PostroomError>> {
        let rows = recipients.makeIterator()
        var pending: [ExpansionEvent] = []
        let copies = sendTo.copies
        return AnyIterator {
            while pending.isEmpty {
                guard let row = rows.next() else { return nil }
                switch row {
                case .failure(let error): return .failure(error)
                case .success(let recipient):
                    pending = Self.events(for: recipient, copies: copies, request: name, suppression: suppression)
                }
            }
            return .success(pending.removeFirst())
        }
    }

    /// Refuses a request none of whose copies has a valid address: such a request would
    /// expand to nothing and look like a success. Stops at the first valid copy.
    public func checkSomeAddressIsValid() throws(PostroomError) {
        var invalid: [(line: Int, address: String)] = []
        for event in expansion(name: "check", suppression: SuppressionList(text: "")) {
            switch try event.get() {
            case .job: return
            case .skipped(let line, _, let address, .invalidAddress): invalid.append((line, address))
            case .skipped: continue
            }
        }
        guard !invalid.isEmpty else { return }
        throw Self.noValidAddress(invalid, source: recipients.source)
    }

    /// The error for a list whose every address is invalid, with the first few lines.
    static func noValidAddress(_ invalid: [(line: Int, address: String)], source: String) -> PostroomError {
        let examples = invalid.prefix(3).map {
            $0.address.isEmpty ? "line \($0.line) (empty)" : "line \($0.line) \"\($0.address)\""
        }
        return .malformed(
            what: "recipient list", location: source,
            reason: "no copy has a valid address (\(invalid.count) invalid: \(examples.joined(separator: ", "))"
                + (invalid.count > 3 ? ", ..." : "")
                + "); check that the 'email' column (or guardian_email, emergency_email) holds the addresses")
    }

    static func events(
        for recipient: Recipient, copies: [SendTo.Copy], request: String, suppression: SuppressionList
    )
        -> [ExpansionEvent]
    {
        var events: [ExpansionEvent] = []
        var seen = Set<String>()
        for copy in copies {
            let address: String
            let name: String
            switch copy {
            case .self:
                address = recipient.email
                name = recipient.displayName
            case .guardian, .emergency:
                guard let contact = copy == .guardian ? recipient.guardian : recipient.emergency else {
                    events.append(.skipped(line: recipient.line, copy: copy, address: "", reason: .noContact))
                    continue
                }
                address = contact.email
                name = contact.name
            }
            let key = SuppressionList.key(address)
            if !key.isEmpty && seen.contains(key) {
                events.append(.skipped(line: recipient.line, copy: copy, address: address, reason: .duplicate))
                continue
            }
            seen.insert(key)
            guard AddressParser.isValidAddress(address) else {
                events.append(.skipped(line: recipient.line, copy: copy, address: address, reason: .invalidAddress))
                continue
            }
            if suppression.contains(address) {
                events.append(.skipped(line: recipient.line, copy: copy, address: address, reason: .suppressed))
                continue
            }
            events.append(
                .job(
                    Job(
                        request: request, copy: copy, envelopeTo: address, toName: name, recipient: recipient.record,
                        line: recipient.line)))
        }
        return events
    }
}

extension SpoolLog {
    /// The line for a copy not made: `NAME: to=<x>, copy=self, line=17, status=skipped (invalid address)`.
    ///
    /// Missing contacts are routine (most students have no emergency contact listed): the
    /// log keeps each one, stderr only the summary count.
    public func recordSkipped(
        request: String, line: Int, copy: SendTo.Copy, address: String, reason: ExpansionEvent.SkipReason
    ) {
        record(
            MessageName(base: request), ["to": "<\(address)>", "copy": copy.rawValue, "line": String(line)],
            status: "skipped", detail: reason == .noContact ? "no \(copy.rawValue) address" : reason.rawValue,
            echo: reason == .noContact ? false : nil)
    }
}
