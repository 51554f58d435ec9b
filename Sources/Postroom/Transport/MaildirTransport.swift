/// Local delivery into a maildir: what `deliver` does when no mail server is configured,
/// so the whole pipeline runs on a machine without one. It has no loopback copy to send: an
/// envelope's loopback recipient is ignored (nothing would route it back).
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
                ? .deferred(
                    reply: "451 4.3.0 \(error.description)", relay: "maildir[\(maildir.path)]", connectionFailed: true)
                : .failed(reply: "550 5.3.0 \(error.description)", relay: "maildir[\(maildir.path)]")
        }
    }

    public func close() {}
}
