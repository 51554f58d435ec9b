/// What a transport made of one message.
public enum DeliveryOutcome: Sendable, Equatable {
    /// Accepted: the reply (`250 2.0.0 queued as X`), where (`host[ip]:port`), and what became
    /// of the envelope's loopback recipient.
    case sent(reply: String, relay: String, loopback: LoopbackCopy = .none)
    /// Try again later: a 4xx reply, or no answer at all (connection refused, timeout, TLS).
    case deferred(reply: String, relay: String, connectionFailed: Bool)
    /// Refused for good: a 5xx reply.
    case failed(reply: String, relay: String)
}

/// What became of an envelope's loopback recipient (`deliver --loopback`) in a sent message.
public enum LoopbackCopy: Sendable, Equatable {
    /// There was none, or the transport cannot send one (a maildir).
    case none
    /// The server took it: a copy is on its way back.
    case sent
    /// The server refused it (its reply); the message itself went.
    case refused(String)
}

/// Something that hands messages on: an SMTP server, a sendmail program, a maildir.
public protocol Transport: AnyObject {
    /// Sends `data` (the message as stored, LF line endings, internal fields removed).
    func deliver(_ data: [UInt8], envelope: Envelope) -> DeliveryOutcome
    /// Sends `message`, knowing that `next` comes after it: a transport may start on `next`
    /// early, and then the next call must deliver `next`.
    func deliver(_ message: Outbound, announcing next: Outbound?) -> DeliveryOutcome
    /// Whether knowing the next message helps (so the stage claims it ahead).
    var startsNextEarly: Bool { get }
    /// Closes connections; called at the end of a pass.
    func close()
}

extension Transport {
    /// Transports that send one message at a time take it whole and ignore what comes next.
    public func deliver(_ message: Outbound, announcing next: Outbound?) -> DeliveryOutcome {
        do throws(PostroomError) {
            return deliver(try message.contiguousBytes(), envelope: message.envelope)
        } catch {
            return .deferred(reply: "451 4.3.0 \(error.description)", relay: "localhost", connectionFailed: false)
        }
    }

    /// `deliver(_:announcing:)` for a message in memory.
    public func deliver(_ data: [UInt8], envelope: Envelope, announcing next: Outbound?) -> DeliveryOutcome {
        deliver(Outbound(data: data, envelope: envelope), announcing: next)
    }

    /// They gain nothing from a message claimed ahead.
    public var startsNextEarly: Bool { false }
}
