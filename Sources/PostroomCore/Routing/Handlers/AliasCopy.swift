/// What an alias makes of a message: the same bytes, byte for byte, below a `Delivered-To` for
/// the routed address and this address's `X-Loop`, so the author's DKIM signature still verifies
/// and the copy cannot come back through the same address unnoticed.
public enum AliasCopy {
    /// A copy of `message` for `recipient` from `sender` (the envelope only changes).
    public static func make(
        _ message: IncomingMessage, to recipient: String, from sender: String?, context: RouteContext, note: String
    ) throws(PostroomError) -> RouteCopy {
        let header = try message.header(below: [("Delivered-To", message.recipient), ("X-Loop", context.loopID)])
        return RouteCopy(
            destination: .outgoing, envelope: try Envelope(sender: sender, recipients: [recipient]), header: header,
            body: message.body, note: note)
    }
}
