extension RouteContext {
    /// The envelope sender for an alias copy of `message` to `target`: the original, or, when SRS
    /// is configured and the copy leaves the routed address's domain, the sender rewritten with
    /// SRS so that the destination's SPF check sees this site's domain (and a bounce comes back
    /// here, to the `srs` handler, to be returned to the original sender).
    func forwardingSender(_ message: IncomingMessage, to target: String) throws(PostroomError) -> String? {
        guard let sender = message.sender else { return nil }
        let routedDomain = message.recipientParts.domain.lowercased()
        guard IncomingMessage.split(target).domain.lowercased() != routedDomain,
            let srs = try SRS.configured(configuration, defaultDomain: routedDomain)
        else { return sender }
        return srs.forward(sender: sender, now: now)
    }
}
