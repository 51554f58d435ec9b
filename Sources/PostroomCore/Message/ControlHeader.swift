/// The `X-Postroom-` fields through which stages pass data along with a message.
///
/// Values are escaped so that any text (line breaks, non-ASCII, `%`) survives the trip:
/// bytes outside printable ASCII, space and `%` become `%XX`. Whitespace in the stored
/// field is folding only and is ignored when reading. `deliver` removes every such
/// field before a message leaves the machine.
public enum ControlHeader: String, Sendable, CaseIterable {
    /// The recipient list a request was submitted with.
    case recipients = "X-Postroom-Recipients"
    /// The send-to modes: `self`, `guardian`, `emergency`, comma-separated.
    case sendTo = "X-Postroom-Send-To"
    /// One template variable, `name=value`; repeated for each.
    case variable = "X-Postroom-Var"
    /// The SMTP envelope sender (`MAIL FROM`); empty for bounces.
    case envelopeFrom = "X-Postroom-Envelope-From"
    /// The SMTP envelope recipient (`RCPT TO`): one per message file.
    case envelopeTo = "X-Postroom-Envelope-To"
    /// The name of the request a job was expanded from.
    case request = "X-Postroom-Request"
    /// Which copy a job is: `self`, `guardian` or `emergency`.
    case copy = "X-Postroom-Copy"
    /// The display name for the job's To field.
    case toName = "X-Postroom-To-Name"
    /// The recipient's record as JSON: what templates see as `user`.
    case recipient = "X-Postroom-Recipient"
    /// `yes` when a request is bulk mail (Precedence: bulk, Auto-Submitted), `no` otherwise.
    case bulk = "X-Postroom-Bulk"
    /// In a request, what a MIME part is: `template`, `recipients` or `attachment`.
    case part = "X-Postroom-Part"
    /// How many delivery attempts were made.
    case attempts = "X-Postroom-Attempts"
    /// When delivery was first attempted: the retry lifetime counts from here.
    case firstAttempt = "X-Postroom-First-Attempt"
    /// The last server reply or error, for deferred and failed messages.
    case lastError = "X-Postroom-Last-Error"
    /// When the next attempt is due (also the file's mtime in `deferred/`).
    case nextAttempt = "X-Postroom-Next-Attempt"
    /// Why the message is in `failed/`.
    case failure = "X-Postroom-Failure"
    /// The stage that moved the message to `failed/`.
    case failedIn = "X-Postroom-Failed-In"
    /// Why a post is in `held/` (a posting policy refused its poster).
    case heldReason = "X-Postroom-Held-Reason"
    /// The address a held post was routed for (the list): releasing it routes it there again.
    case heldFor = "X-Postroom-Held-For"
    /// On a list copy, the ARC set `deliver` adds: `DOMAIN INSTANCE CV` (sealing domain,
    /// the new `i=`, the incoming chain's `none`, `pass` or `fail`).
    case arcSeal = "X-Postroom-ARC-Seal"
    /// On a list copy, the new ARC-Authentication-Results after `i=N; `: `AUTHSERV-ID; RESULTS`.
    case arcResults = "X-Postroom-ARC-Results"

    /// The prefix shared by all control fields.
    public static let prefix = "X-Postroom-"

    /// Whether a field name is a control field (any `X-Postroom-` name, known or not).
    public static func isControl(_ name: String) -> Bool {
        name.utf8.count > prefix.utf8.count && HeaderField.namesEqual(String(name.prefix(prefix.count)), prefix)
    }

    /// Escapes a value for storage in a control field.
    public static func encode(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if byte > 32 && byte < 127 && byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                Hex.append(byte, to: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reverses `encode`; nil when the stored text is not valid.
    public static func decode(_ stored: String) -> String? {
        var out: [UInt8] = []
        var bytes = stored.utf8.filter { $0 != 32 && $0 != 9 && $0 != 13 && $0 != 10 }.makeIterator()
        while let byte = bytes.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = bytes.next(), let low = bytes.next(), let value = Hex.value(high, low) else {
                    return nil
                }
                out.append(value)
            } else {
                out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension Message {
    /// The decoded value of the first control field of this kind.
    public func control(_ header: ControlHeader) -> String? {
        value(of: header.rawValue).flatMap(ControlHeader.decode)
    }

    /// The decoded values of every control field of this kind, in order.
    public func controls(_ header: ControlHeader) -> [String] {
        values(of: header.rawValue).compactMap(ControlHeader.decode)
    }

    /// Sets one control field, replacing any of the same kind.
    public mutating func setControl(_ header: ControlHeader, _ value: String) {
        replaceFields(named: header.rawValue, with: [controlField(header, value)])
    }

    /// Appends a control field (for repeated kinds such as variables).
    public mutating func appendControl(_ header: ControlHeader, _ value: String) {
        append(field: controlField(header, value))
    }

    /// Removes every `X-Postroom-` field and every `Bcc`: what must never leave the machine.
    public mutating func removeInternalFields() {
        removeAll { ControlHeader.isControl($0.name) || $0.hasName("Bcc") }
    }

    private func controlField(_ header: ControlHeader, _ value: String) -> HeaderField {
        // The escaped value is printable ASCII without spaces: the writer cannot fail on it.
        (try? HeaderWriter.field(header.rawValue, ControlHeader.encode(value), lineEnding: lineEnding, style: .control))
            ?? HeaderField(name: header.rawValue, raw: Array("\(header.rawValue):\n".utf8))
    }
}
