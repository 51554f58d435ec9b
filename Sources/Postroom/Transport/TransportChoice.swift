/// Where `deliver` sends mail: an SMTP relay, a sendmail program or a local maildir.
///
/// There is no default. A `deliver` that silently kept mail on the machine would log
/// `status=sent` for messages nobody receives, so it must be told, by a flag or by
/// `transport` in postroom.conf(5).
public enum TransportChoice: Sendable, Equatable {
    /// `smtp://host:port` or `smtps://host:port`.
    case smtp(url: String)
    /// A sendmail-compatible program the message is piped into.
    case sendmail(program: String)
    /// A local maildir (trying postroom out, or a machine with no mail server).
    case maildir(path: String)

    /// What to say when nothing chose a transport.
    public static let missingAdvice =
        "deliver does not know where to send mail: give --smtp smtp://relay.example.org:587 (a mail server), "
        + "--sendmail /usr/sbin/sendmail (the local MTA), or --maildir DIR (keep mail in a local maildir, to try "
        + "postroom out), or set 'transport' in postroom.conf (see postroom-deliver(8))"

    /// The transport named by the flags, else by `transport` in the configuration.
    ///
    /// Two flags at once are a usage error; none and no configured value is a configuration error.
    public static func choose(
        smtp: String?, sendmail: String?, maildir: String?, configuration: Configuration
    ) throws(PostroomError) -> TransportChoice {
        switch (smtp, sendmail, maildir) {
        case (let url?, nil, nil): return .smtp(url: url)
        case (nil, let program?, nil): return .sendmail(program: program)
        case (nil, nil, let path?): return .maildir(path: path)
        case (nil, nil, nil): break
        default: throw .usage("choose one of --smtp, --sendmail and --maildir")
        }
        let location = configuration.path.map { "\($0): transport" } ?? "transport"
        guard let text = configuration.value(Configuration.transport), !text.isEmpty else {
            throw .configuration(location: configuration.path, reason: missingAdvice)
        }
        return try TransportChoice(configured: text, location: location)
    }

    /// Parses the configuration's `transport` value: `smtp://...`, `smtps://...`,
    /// `sendmail:PROGRAM` or `maildir:DIR`.
    public init(configured text: String, location: String) throws(PostroomError) {
        if text.hasPrefix("smtp://") || text.hasPrefix("smtps://") {
            self = .smtp(url: text)
        } else if text.hasPrefix("sendmail:"), text.count > "sendmail:".count {
            self = .sendmail(program: String(text.dropFirst("sendmail:".count)))
        } else if text.hasPrefix("maildir:"), text.count > "maildir:".count {
            self = .maildir(path: String(text.dropFirst("maildir:".count)))
        } else {
            throw .configuration(
                location: location,
                reason: "\"\(text)\" is not a transport: use smtp://host:port, smtps://host:port, "
                    + "sendmail:/usr/sbin/sendmail or maildir:/path/to/maildir")
        }
    }
}
