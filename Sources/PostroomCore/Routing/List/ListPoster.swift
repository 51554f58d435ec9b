/// Who sent a post to a list, as far as the message and its envelope tell.
struct ListPoster: Sendable {
    /// The first mailbox of From, when From can be read.
    let from: Mailbox?
    /// Whether From names more than one author (RFC 5322 allows it; DMARC cannot judge it).
    let hasSeveralAuthors: Bool
    /// The poster's own Reply-To value, when it can be read.
    let replyTo: String?
    /// The envelope sender (never nil here: null-sender mail does not reach a list).
    let envelopeSender: String

    init(_ message: IncomingMessage, envelopeSender: String) {
        let header = message.message
        let authors = header.value(of: "From").flatMap { try? AddressParser.parseList($0).flatMap(\.mailboxes) } ?? []
        from = authors.first
        hasSeveralAuthors = authors.count > 1
        if let value = header.value(of: "Reply-To"), let list = try? AddressParser.parseList(value),
            !list.flatMap(\.mailboxes).isEmpty
        {
            replyTo = Address.format(list)
        } else {
            replyTo = nil
        }
        self.envelopeSender = envelopeSender
    }

    /// The addresses the poster may be recognised by: From and the envelope sender.
    var addresses: [String] {
        (from.map { [$0.address] } ?? []) + [envelopeSender]
    }

    /// Where a private reply goes: their Reply-To, else From, else the envelope sender.
    var replyAddress: String {
        replyTo ?? from?.formatted ?? envelopeSender
    }

    /// The poster as one mailbox for Cc: From, else the envelope sender.
    var mailbox: String { from?.formatted ?? envelopeSender }

    /// The domain whose DMARC policy applies to the post: From's.
    var fromDomain: String? { from.map(\.domain).flatMap { $0.isEmpty ? nil : $0.lowercased() } }

    /// The poster's name for the rewritten From: their display name, else their address.
    var displayName: String {
        if let name = from?.displayName.map(SubjectTag.clean), !name.isEmpty { return name }
        return from?.address ?? envelopeSender
    }
}

/// Whether a list copy's From is replaced by the list's address.
enum FromRewritePolicy {
    /// Decides for one post; throws `.temporary` when the DMARC lookup failed and
    /// `dmarc_lookup_failure = defer` asks the MTA to try again later.
    static func rewrites(
        _ setting: ListSettings.FromRewrite, poster: ListPoster, context: RouteContext
    ) throws(PostroomError) -> Bool {
        switch setting {
        case .never: return false
        case .always: return true
        case .dmarc: break
        }
        // Without a readable From there is no author domain to vouch for, and with several
        // authors no one domain's policy decides (RFC 7489 6.6.1): use the list's.
        guard let domain = poster.fromDomain, !poster.hasSeveralAuthors else { return true }
        let lookup = context.dmarc?.policy(for: domain) ?? .unavailable("no DMARC lookup is set up")
        guard case .unavailable(let reason) = lookup else { return lookup.requiresRewrite }
        let onFailure = context.configuration.value(Configuration.dmarcLookupFailure) ?? "rewrite"
        switch onFailure.lowercased() {
        case "rewrite":
            return true
        case "defer":
            throw .temporary(
                "the DMARC policy of \(domain) could not be looked up (\(reason)); dmarc_lookup_failure = defer")
        default:
            throw .configuration(
                location: context.configuration.path,
                reason: "dmarc_lookup_failure takes rewrite or defer, not \"\(onFailure)\"")
        }
    }
}
