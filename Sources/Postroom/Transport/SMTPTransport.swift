import CCurl
import Glibc

/// SMTP and SMTPS: libcurl opens one connection (TLS, STARTTLS, AUTH, timeouts) and it
/// carries every message of the pass.
///
/// With PIPELINING (RFC 2920) the envelope goes in one write and rides with the previous
/// message's content, so a queue costs one round trip a message instead of four. A refusal
/// of the sender or the recipient is followed by RSET and the connection stays open; a
/// connection the server closed while idle is replaced before a message is given up on. A
/// message with several recipients is sent only when the server accepts all of them, and a
/// refusal names the recipient it refused. Credentials require TLS unless it is turned off.
///
/// An envelope's loopback recipient is one more RCPT TO after the real one, in the same group.
/// Its refusal changes nothing; a refusal of the real recipient stops the message even when
/// the loopback was accepted (RSET, or closing the connection when DATA was already answered
/// 354), so the loopback address never gets a message its recipient did not.
public final class SMTPTransport: Transport {
    /// How STARTTLS is used on `smtp://` URLs.
    public enum TLSPolicy: String, Sendable, CaseIterable {
        /// Refuse to send without TLS.
        case required
        /// Use TLS when the server offers it; with credentials, as `required`.
        case opportunistic
        /// Never use STARTTLS.
        case off
    }

    /// Settings for a connection.
    public struct Settings: Sendable {
        /// `smtp://host:port` or `smtps://host:port`.
        public var url: String
        /// STARTTLS policy for `smtp://`.
        public var tls: TLSPolicy = .opportunistic
        /// AUTH user name.
        public var username: String?
        /// AUTH password (read from a protected file by the caller).
        public var password: String?
        /// A CA bundle to trust (for a private or self-signed certificate).
        public var caFile: String?
        /// Seconds to wait for a connection.
        public var connectTimeout = 30
        /// Seconds to wait for each server reply.
        public var responseTimeout = 300
        /// Seconds one message may take in all.
        public var overallTimeout = 600
        /// The name given in EHLO.
        public var heloName = MessageNameGenerator.systemHostName()

        /// Settings for `url` with the defaults above.
        public init(url: String) { self.url = url }
    }

    private let settings: Settings
    private var connection: SMTPConnection?
    /// Connections opened so far (1 after many messages means reuse worked).
    public private(set) var connectionsOpened = 0

    /// A transport; nothing connects until the first message.
    public init(settings: Settings) throws(PostroomError) {
        guard settings.url.hasPrefix("smtp://") || settings.url.hasPrefix("smtps://") else {
            throw .usage("--smtp needs an smtp:// or smtps:// URL, got \"\(settings.url)\"")
        }
        self.settings = settings
        Self.initializeLibrary
    }

    deinit { close() }

    private static let initializeLibrary: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Says QUIT and closes the connection (without QUIT when an announced message never came:
    /// the server may be waiting for its data, and only closing ends that).
    public func close() {
        connection?.close(quit: connection?.announced == nil)
        connection = nil
    }

    public func deliver(_ data: [UInt8], envelope: Envelope) -> DeliveryOutcome {
        deliver(data, envelope: envelope, announcing: nil)
    }

    /// The next message's envelope can ride with this one's content.
    public var startsNextEarly: Bool { true }

    /// Sends a message and, with PIPELINING, the envelope of `next` in the same write as the
    /// end of its content (RFC 2920 3.1 lets message content open a group), so that a queue
    /// costs one round trip a message. The next call must then deliver `next`. The content is
    /// converted to the wire format and written a piece at a time, never held whole.
    public func deliver(_ message: Outbound, announcing next: Outbound?) -> DeliveryOutcome {
        if let announced = connection?.announced, announced.message != message {
            connection?.close(quit: false)
            connection = nil
        }
        // A second try only when a reused connection turns out to have been closed by the server.
        while true {
            let current: SMTPConnection
            switch openConnection() {
            case .success(let open): current = open
            case .failure(let failure):
                return .deferred(
                    reply: failure.description, relay: failure.relay ?? settings.host, connectionFailed: true)
            }
            let reused = current.transactions > 0
            let repliesBefore = current.repliesRead
            current.messageDeadline = SMTPConnection.now() + Int64(settings.overallTimeout) * 1000
            do throws(SMTPConnection.Failure) {
                let (outcome, keepOpen) = try transaction(message, announcing: next, on: current)
                current.transactions += 1
                if !keepOpen {
                    current.close(quit: false)
                    connection = nil
                }
                return outcome
            } catch {
                current.close(quit: false)
                connection = nil
                if reused && (current.repliesRead == repliesBefore || error.retired) { continue }
                return .deferred(reply: error.description, relay: current.relay, connectionFailed: true)
            }
        }
    }

    /// The open connection, or a new one.
    private func openConnection() -> Result<SMTPConnection, SMTPConnection.Failure> {
        // Replies to an announced envelope are expected; anything else readable between
        // transactions means the server has closed (or is closing) the connection.
        if let connection, connection.transactions == 0 || connection.announced != nil || connection.isOpen {
            return .success(connection)
        }
        connection?.close(quit: false)
        connection = nil
        let opened = SMTPConnection.open(settings)
        if case .success(let open) = opened {
            connection = open
            connectionsOpened += 1
        }
        return opened
    }

    /// The message as it goes to this server and its envelope commands, or the reason it
    /// cannot go to this server at all. 8-bit body parts are made 7-bit for a server without
    /// 8BITMIME (the only case that reads a large message whole); UTF-8 in addresses or the
    /// header needs SMTPUTF8.
    private func envelopeCommands(_ message: Outbound, on connection: SMTPConnection) -> EnvelopeCommands {
        let envelope = message.envelope
        let relay = connection.relay
        let capabilities = connection.capabilities
        let utf8Addresses = ([envelope.sender ?? "", envelope.loopback ?? ""] + envelope.recipients).contains {
            $0.utf8.contains { $0 >= 0x80 }
        }
        let utf8Header = message.hasEightBitHeader
        if (utf8Addresses || utf8Header) && !capabilities.smtpUTF8 {
            let what =
                utf8Addresses
                ? "SMTPUTF8 is required for \(envelope.recipients.joined(separator: ", "))"
                : "SMTPUTF8 is required for the 8-bit text in the header"
            return .refused(SMTPReply(code: 550, lines: ["5.6.7 \(what) but \(relay) does not offer it"]))
        }
        var content = message
        if !capabilities.eightBitMIME && message.hasEightBit {
            do throws(PostroomError) {
                switch try message.sevenBit() {
                case .success(let converted): content = converted
                case .failure(let error):
                    return .refused(
                        SMTPReply(
                            code: 554,
                            lines: [
                                "5.6.3 \(relay) does not offer 8BITMIME and the message cannot be made 7-bit: \(error.reason)"
                            ]))
                }
            } catch {
                return .refused(SMTPReply(code: 451, lines: ["4.3.0 \(error.description)"]))
            }
        }
        if let limit = capabilities.sizeLimit, content.wireSize > limit {
            return .refused(
                SMTPReply(
                    code: 552,
                    lines: ["5.3.4 message size \(content.wireSize) exceeds the size limit \(limit) of \(relay)"]))
        }
        var mail = "MAIL FROM:<\(envelope.sender ?? "")>"
        if capabilities.size { mail += " SIZE=\(content.wireSize)" }
        if capabilities.eightBitMIME && content.hasEightBit { mail += " BODY=8BITMIME" }
        if utf8Addresses || utf8Header { mail += " SMTPUTF8" }
        var commands = [mail] + envelope.recipients.map { "RCPT TO:<\($0)>" }
        if let loopback = envelope.loopback { commands.append("RCPT TO:<\(loopback)>") }
        // DATA joins the group only for one recipient: with several, a refused one must stop
        // the message before the server waits for it. (The loopback does not count: a 354
        // after a refused recipient and an accepted loopback is answered by closing.)
        if capabilities.pipelining && envelope.recipients.count == 1 { commands.append("DATA") }
        return .send(content, commands: commands)
    }

    private enum EnvelopeCommands {
        /// The message as it goes to this server (made 7-bit if need be), and its commands.
        case send(Outbound, commands: [String])
        case refused(SMTPReply)
    }

    private static func group(_ commands: [String]) -> [UInt8] {
        Array(commands.map { $0 + "\r\n" }.joined().utf8)
    }

    /// One mail transaction; returns the outcome and whether the connection can carry another.
    private func transaction(
        _ message: Outbound, announcing next: Outbound?, on connection: SMTPConnection
    )
        throws(SMTPConnection.Failure) -> (DeliveryOutcome, Bool)
    {
        let relay = connection.relay
        let content: Outbound
        let commands: [String]
        var replies: [SMTPReply] = []
        // The loopback's RCPT TO follows the real ones: MAIL FROM, RCPT TO..., RCPT TO loopback.
        let loopbackIndex = message.envelope.loopback.map { _ in message.envelope.recipients.count + 1 }
        if let announced = connection.announced {
            // Sent with the previous message's content: only the replies are left to read.
            connection.announced = nil
            (content, commands) = (announced.content, announced.commands)
            replies = try Self.replies(to: commands, on: connection)
        } else {
            switch envelopeCommands(message, on: connection) {
            case .refused(let refusal): return (outcome(of: refusal, relay: relay), true)
            case .send(let converted, let group): (content, commands) = (converted, group)
            }
            if connection.capabilities.pipelining {
                try connection.send(Self.group(commands), what: "MAIL FROM")
                replies = try Self.replies(to: commands, on: connection)
            } else {
                for (index, command) in commands.enumerated() {
                    try connection.send(command: command)
                    let reply = try connection.reply(to: SMTPConnection.verb(command))
                    replies.append(reply)
                    if !reply.isSuccess && (index != loopbackIndex || reply.closesConnection) { break }
                }
            }
        }
        if let first = replies.first, first.closesConnection, connection.transactions > 0 {
            // A server that caps messages per connection says so here (421 to MAIL).
            throw SMTPConnection.Failure(description: first.text, relay: relay, retired: true)
        }
        let dataInGroup = commands.last == "DATA"
        let dataAccepted = dataInGroup && replies.count == commands.count && replies[replies.count - 1].code == 354
        let envelopeReplies = dataInGroup ? replies.dropLast() : replies[...]
        let refusedIndex = envelopeReplies.indices.first {
            !envelopeReplies[$0].isSuccess && ($0 != loopbackIndex || envelopeReplies[$0].closesConnection)
        }
        if let refused = refusedIndex {
            let several = message.envelope.recipients.count > 1
            let refusal =
                several ? Self.naming(envelopeReplies[refused], in: commands[refused]) : envelopeReplies[refused]
            // The server waiting for data that will not come can only be left by closing.
            return (outcome(of: refusal, relay: relay), !dataAccepted && !refusal.closesConnection && reset(connection))
        }
        if !dataInGroup {
            try connection.send(command: "DATA")
            replies.append(try connection.reply(to: "DATA"))
        }
        if let dataReply = replies.last, dataReply.code != 354 {
            // 2xx to DATA would read as sent with nothing sent: the server is confused.
            guard !dataReply.isSuccess else {
                return (
                    .deferred(
                        reply: "unexpected reply to DATA: \(dataReply.text)", relay: relay, connectionFailed: false),
                    false
                )
            }
            return (outcome(of: dataReply, relay: relay), !dataReply.closesConnection && reset(connection))
        }
        // Each piece goes out when the next is ready; the last one carries the announcement.
        var pending: [UInt8] = []
        try content.forEachWireChunk(
            { (piece) throws(SMTPConnection.Failure) in
                if !pending.isEmpty { try connection.send(pending, what: "the message") }
                pending = piece
            },
            unreadable: { SMTPConnection.Failure(description: $0.description, relay: relay) })
        if let next, let announcement = announcement(of: next, on: connection) {
            pending += Self.group(announcement.commands)
            connection.announced = announcement
        }
        try connection.send(pending, what: "the message")
        let final = try connection.reply(to: "the end of the message")
        var result = outcome(of: final, relay: relay)
        if case .sent(let reply, let relay, _) = result, let loopbackIndex, replies.indices.contains(loopbackIndex) {
            let answer = replies[loopbackIndex]
            result = .sent(reply: reply, relay: relay, loopback: answer.isSuccess ? .sent : .refused(answer.text))
        }
        return (result, !final.closesConnection)
    }

    /// The replies to a pipelined group, in order, up to a 421: a server closing the
    /// connection answers nothing after it.
    private static func replies(
        to commands: [String], on connection: SMTPConnection
    ) throws(SMTPConnection.Failure)
        -> [SMTPReply]
    {
        var replies: [SMTPReply] = []
        for command in commands {
            let reply = try connection.reply(to: SMTPConnection.verb(command))
            replies.append(reply)
            if reply.closesConnection { break }
        }
        return replies
    }

    /// A refusal of `RCPT TO:<a@b>` that names its recipient, which the server's text may
    /// not: with several recipients, the reason must say which one was refused (with one,
    /// the envelope already says it).
    private static func naming(_ reply: SMTPReply, in command: String) -> SMTPReply {
        let prefix = "RCPT TO:"
        guard command.hasPrefix(prefix), !reply.lines.isEmpty else { return reply }
        let path = String(command.dropFirst(prefix.count))
        guard !reply.text.contains(path) else { return reply }
        var named = reply
        named.lines[named.lines.count - 1] += " (recipient \(path))"
        return named
    }

    /// The group announcing `next`, when it can go ahead of its turn: PIPELINING, one
    /// recipient, and nothing that would refuse it before it is sent.
    private func announcement(of next: Outbound, on connection: SMTPConnection) -> SMTPConnection.Announcement? {
        guard connection.capabilities.pipelining, next.envelope.recipients.count == 1 else { return nil }
        guard case .send(let content, let commands) = envelopeCommands(next, on: connection) else { return nil }
        return SMTPConnection.Announcement(message: next, content: content, commands: commands)
    }

    /// RSET after a refusal; false when the connection is no longer in a known state.
    private func reset(_ connection: SMTPConnection) -> Bool {
        do throws(SMTPConnection.Failure) {
            try connection.send(command: "RSET")
            return try connection.reply(to: "RSET").isSuccess
        } catch {
            return false
        }
    }

    private func outcome(of reply: SMTPReply, relay: String) -> DeliveryOutcome {
        switch reply.code {
        case 200..<300: .sent(reply: reply.text, relay: relay)
        case 500..<600: .failed(reply: reply.text, relay: relay)
        case 400..<500: .deferred(reply: reply.text, relay: relay, connectionFailed: false)
        // A reply out of place (354 to MAIL, 250 to DATA): the server is confused; try later.
        default: .deferred(reply: "unexpected reply: \(reply.text)", relay: relay, connectionFailed: false)
        }
    }
}

extension SMTPTransport.Settings {
    /// The policy applied: credentials make `opportunistic` TLS required, so that a server
    /// not offering STARTTLS (or an attacker stripping it) never receives the password.
    /// Only an explicit `off` sends it in clear.
    var tlsInForce: SMTPTransport.TLSPolicy {
        tls == .opportunistic && (username != nil || password != nil) ? .required : tls
    }

    /// The host part of the URL, for log lines when no connection was made.
    var host: String {
        url.split(separator: "/").dropFirst().first.map { String($0.split(separator: ":").first ?? $0) } ?? url
    }
}
