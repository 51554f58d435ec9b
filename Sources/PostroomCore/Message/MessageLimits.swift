/// How large a message may be, checked where messages enter the spool (`postroom submit`,
/// `expand`, `render`) and where they leave it (`deliver`): `message_size_limit` and
/// `header_size_limit` in postroom.conf(5), named and defaulted as Postfix's.
///
/// Sizes count the message as it is sent, before SMTP's CRLF and dot-stuffing: LF line
/// endings, without the `X-Postroom-` control fields and Bcc.
public struct MessageLimits: Sendable, Equatable {
    /// The largest message in bytes, header and body (nil: no limit).
    public var messageSize: Int?
    /// The largest header section in bytes (nil: no limit).
    public var headerSize: Int?

    /// Postfix's defaults: 10,240,000 bytes a message, 102,400 bytes of header.
    public static let defaults = MessageLimits(messageSize: 10_240_000, headerSize: 102_400)
    /// No limit at all.
    public static let none = MessageLimits(messageSize: nil, headerSize: nil)

    /// Limits from parts; nil means no limit.
    public init(messageSize: Int?, headerSize: Int?) {
        self.messageSize = messageSize
        self.headerSize = headerSize
    }

    /// The limits a configuration sets; `messageSizeFlag` (`--message-size-limit`) wins over it.
    public static func configured(
        _ configuration: Configuration, messageSizeFlag: String? = nil
    ) throws(PostroomError) -> MessageLimits {
        func bytes(_ key: Configuration.Key, flag: String?) throws(PostroomError) -> Int? {
            guard let text = configuration.value(key, flag: flag) else { return nil }
            guard let value = Int(text), value >= 0 else {
                let reason = "must be a number of bytes (0 for no limit), not \"\(text)\""
                if flag != nil { throw .usage("--\(key.name.replacing("_", with: "-")) \(reason)") }
                throw .configuration(location: configuration.path, reason: "\(key.name) \(reason)")
            }
            return value == 0 ? nil : value
        }
        return MessageLimits(
            messageSize: try bytes(Configuration.messageSizeLimit, flag: messageSizeFlag),
            headerSize: try bytes(Configuration.headerSizeLimit, flag: nil))
    }

    /// Why a message of `size` bytes with a header of `headerSize` bytes is refused, or nil.
    public func violation(size: Int, headerSize header: Int) -> String? {
        if let headerSize, header > headerSize {
            return "header size \(header) bytes exceeds header_size_limit \(headerSize)"
        }
        if let messageSize, size > messageSize {
            return "message size \(size) bytes exceeds message_size_limit \(messageSize)"
        }
        return nil
    }

    /// Refuses `message` (exit 65) when it is over a limit; `source` names it in the error.
    public func check(_ message: Message, source: String) throws(PostroomError) {
        var outbound = message
        outbound.removeInternalFields()
        let header = outbound.fields.reduce(outbound.separator.count) { $0 + $1.raw.count }
        let size = header + (outbound.envelopeLine?.count ?? 0) + outbound.body.count
        try refuse(size: size, headerSize: header, source: source)
    }

    package func refuse(size: Int, headerSize header: Int, source: String) throws(PostroomError) {
        guard let problem = violation(size: size, headerSize: header) else { return }
        throw .malformed(
            what: "message", location: source,
            reason: "\(problem) (postroom.conf(5)); make the message smaller or raise the limit")
    }
}
