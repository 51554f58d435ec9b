/// `srs`: a bounce (or any reply) to an SRS address this site wrote when it forwarded mail goes
/// back to the original sender, once the address's hash and age check out.
///
/// Rule: `^SRS[01][=+-]  srs`. The copy is the message as received below a `Delivered-To`
/// for the SRS address, sent with the null sender (it is a bounce: nothing may bounce it
/// again). A forged or expired address is refused with 67, so the MTA rejects it.
public struct SRSHandler: RouteHandler {
    public static let name = "srs"
    public static let argumentCount: ClosedRange<Int> = 0...0

    /// The SRS keys must be configured and readable.
    public static func check(_ arguments: RuleArguments, context: RouteContext) -> [String] {
        do {
            guard try SRS.configured(context.configuration, defaultDomain: "localhost") != nil else {
                return ["srs needs the srs_key_file key in postroom.conf (the key postsrsd uses, if it runs here)"]
            }
            return []
        } catch {
            return [error.description]
        }
    }

    public init(_ arguments: RuleArguments, context: RouteContext) throws(PostroomError) {}

    /// One copy to the original sender, or 67 for a forged or expired address.
    public func route(_ message: IncomingMessage, context: RouteContext) throws(PostroomError) -> RouteDecision {
        guard SRS.isSRS(message.recipient) else {
            return .pass(reason: "\(message.recipient) is not an SRS address")
        }
        guard let srs = try SRS.configured(context.configuration, defaultDomain: message.recipientParts.domain) else {
            throw .configuration(
                location: Configuration.srsKeyFile.name,
                reason: "the srs handler needs srs_key_file, the key SRS addresses are signed with")
        }
        let original: String
        do {
            original = try srs.reverse(address: message.recipient, now: context.now)
        } catch {
            return .refuse(.noUser, error.description)
        }
        let envelope: Envelope
        do {
            envelope = try Envelope(sender: nil, recipients: [original])
        } catch {
            return .refuse(
                .noUser, "\(message.recipient) stands for \(original), which is not an address mail can go to")
        }
        let copy = RouteCopy(
            destination: .outgoing, envelope: envelope,
            header: try message.header(below: [("Delivered-To", message.recipient)]),
            body: message.body, note: "SRS reply to \(original)")
        return .deliver(RoutePlan(copies: [copy], summary: "srs: \(message.recipient) back to \(original)"))
    }
}
