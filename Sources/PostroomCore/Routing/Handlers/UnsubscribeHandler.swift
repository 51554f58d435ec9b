/// `unsubscribe`: the address of `unsubscribe_mailto`; each message is an unsubscribe request.
///
/// The token travels as the last word of the subject, as render and route write it in
/// List-Unsubscribe (`mailto:...?subject=unsubscribe ADDRESS [LIST] TOKEN`), so a reply that
/// adds `Re:` still works; a request whose subject has none may give it as the last word of the
/// body's first line. The request is recorded as `mark --unsubscribe TOKEN` would record it; a
/// missing or refused token makes route exit 77, so the MTA tells the sender. Null-sender mail
/// (bounces, auto-replies) is dropped with a log line: answering it could loop.
public struct UnsubscribeHandler: RouteHandler {
    public static let name = "unsubscribe"
    public static let argumentCount: ClosedRange<Int> = 0...0

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {}

    public static func check(_ arguments: RuleArguments, context: RouteContext) -> [String] {
        do {
            _ = try UnsubscribeKey.configured(context.configuration)
            _ = try Unsubscription.lifetime(context.configuration)
            return []
        } catch {
            return ["rule table line \(arguments.line): unsubscribe: \(error.description)"]
        }
    }

    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        guard let sender = message.sender else {
            return .drop(reason: "null-sender mail (a bounce or auto-reply) to \(message.recipient) is no request")
        }
        guard let token = Self.token(in: message) else {
            return .refuse(
                .noPermission,
                "\(message.recipient): no unsubscribe token in the subject; use the unsubscribe link of the message"
                    + " you received, which fills the subject in")
        }
        return .record(
            try Unsubscription(
                token: token, configuration: context.configuration, now: context.now,
                channel: "mailto from <\(sender.escapingControls)>"))
    }

    /// The token: the subject's last word, else the last word of the body's first non-blank line,
    /// whichever looks like one (two base64url runs joined by a dot); nil when neither does.
    static func token(in message: IncomingMessage) -> String? {
        if let subject = message.message.decodedValue(of: "Subject"), let word = lastWord(subject),
            looksLikeToken(word)
        {
            return word
        }
        // Line by line up to the first that is not blank: the body may be large.
        var firstLine: String?
        var rest = message.body
        while firstLine == nil, !rest.isEmpty {
            let end = rest.firstIndex(of: 10) ?? rest.endIndex
            let bytes = rest[..<end]
            let line = String(decoding: bytes.last == 13 ? bytes.dropLast() : bytes, as: UTF8.self).trimmingSpaces
            if !line.isEmpty { firstLine = line }
            rest = end < rest.endIndex ? rest[(end + 1)...] : []
        }
        if let firstLine, let word = lastWord(firstLine), looksLikeToken(word) { return word }
        return nil
    }

    private static func lastWord(_ text: String) -> String? {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.map(String.init)
    }

    private static func looksLikeToken(_ word: String) -> Bool {
        let parts = word.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(Base64URL.isAlphabet) }
    }
}
