/// Local delivery into a maildir: what `deliver` does when no mail server is configured,
/// so the whole pipeline runs on a machine without one.
public final class MaildirTransport: Transport {
    private let maildir: Maildir

    /// Delivers into `path` (its tmp/new/cur are created when missing).
    public init(path: String) throws(PostroomError) {
        maildir = Maildir(path: path)
        try maildir.create()
    }

    public func deliver(_ data: [UInt8], envelope: Envelope) -> DeliveryOutcome {
        do throws(PostroomError) {
            for recipient in envelope.recipients {
                // As a local delivery agent does: the envelope becomes trace fields on top.
                let trace = "Return-Path: <\(envelope.sender ?? "")>\nDelivered-To: \(recipient)\n"
                try maildir.add(Array(trace.utf8) + data, as: MessageNameGenerator.shared.next())
            }
            return .sent(reply: "250 2.0.0 delivered to maildir", relay: "maildir[\(maildir.path)]")
        } catch {
            let temporary = error.exitStatus == .tempFail
            return temporary
                ? .deferred(reply: "451 4.3.0 \(error.description)", relay: "maildir[\(maildir.path)]", connectionFailed: true)
                : .failed(reply: "550 5.3.0 \(error.description)", relay: "maildir[\(maildir.path)]")
        }
    }

    public func close() {}
}

/// When to try a deferred message again, and when to give up.
///
/// The defaults are Postfix's: first retry after 5 minutes, doubling, at most 4,000 s
/// apart, give up after 5 days. Each delay gets up to 10% of jitter so that a queue
/// deferred at once does not come back at once.
public struct RetryPolicy: Sendable {
    /// Seconds before the first retry.
    public var firstDelay = 300
    /// The longest wait between attempts.
    public var maximumDelay = 4_000
    /// Seconds after which a message that still cannot be delivered fails.
    public var lifetime = 5 * 86_400

    /// The default policy.
    public init() {}

    /// The wait after `attempts` failed attempts.
    public func delay(afterAttempts attempts: Int) -> Int {
        let doublings = min(max(attempts - 1, 0), 20)
        let base = min(maximumDelay, firstDelay << doublings)
        return base + Int.random(in: 0...max(base / 10, 0))
    }
}

extension WireFormat {
    /// What a server receives for one message after EHLO: the envelope commands and DATA,
    /// CRLF line endings, dot-stuffed, ended by `.` (what `deliver --dry-run` prints).
    public static func smtpTranscript(_ data: [UInt8], envelope: Envelope) -> [UInt8] {
        var out = Array("MAIL FROM:<\(envelope.sender ?? "")>\r\n".utf8)
        for recipient in envelope.recipients { out += Array("RCPT TO:<\(recipient)>\r\n".utf8) }
        out += Array("DATA\r\n".utf8)
        out += dotStuffed(crlf(data))
        out += Array(".\r\n".utf8)
        return out
    }
}
