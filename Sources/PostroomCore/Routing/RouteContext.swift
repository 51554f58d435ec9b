/// What every handler may use while routing one message: the spool, the configuration, the
/// site's loop marker, the clock, and the secrets and lookups that are read only when needed.
public final class RouteContext: @unchecked Sendable {
    /// The spool copies go into.
    public let spool: Spool
    /// The configuration (postroom.conf(5)).
    public let configuration: Configuration
    /// The address being routed, lowercased: the value of the `X-Loop` field route adds to every
    /// copy it makes, and the one it refuses to route again (a list nested in another still works).
    public let loopID: String
    /// The current time (fixed for the whole message, so every copy agrees).
    public let now: Timestamp
    /// DMARC policies of posters' domains, or nil when no lookup is possible here (a setting
    /// `route --check` reports); set up when a list first asks, so other mail never pays for it.
    public var dmarc: (any DMARCPolicySource)? {
        if !dmarcLoaded {
            dmarcSource = try? DNSDMARCPolicySource.configured(configuration)
            dmarcLoaded = true
        }
        return dmarcSource
    }
    private var dmarcSource: (any DMARCPolicySource)?
    private var dmarcLoaded: Bool

    /// The `verify` program's report on the message, once made (a list that seals or requires
    /// signatures asks for it).
    private var verifyReportCache: VerifyReport?

    private var unsubscribeLoaded = false
    private var unsubscribeSettings: Unsubscribe?

    /// A context from parts.
    public init(
        spool: Spool, configuration: Configuration, recipient: String, now: Timestamp = .now(),
        dmarc: (any DMARCPolicySource)? = nil
    ) {
        self.spool = spool
        self.configuration = configuration
        self.now = now
        self.dmarcSource = dmarc
        self.dmarcLoaded = dmarc != nil
        self.loopID = recipient.lowercased()
    }

    /// The `verify` program's report on `message`, made once per message.
    public func verifyReport(_ message: IncomingMessage) throws(PostroomError) -> VerifyReport {
        if let verifyReportCache { return verifyReportCache }
        let report = try VerifyProgram.configured(configuration, spool: spool).run(message.bytes)
        verifyReportCache = report
        return report
    }

    /// The public suffix list, for aligning posts' signatures with their From domain; a
    /// configuration error (route exits 75) when it does not exist.
    public func publicSuffixList() throws(PostroomError) -> PublicSuffixList {
        try PublicSuffixList.configured(configuration)
    }

    /// The unsubscribe settings (read on first use), or nil when none are configured.
    public func unsubscribe() throws(PostroomError) -> Unsubscribe? {
        if !unsubscribeLoaded {
            unsubscribeSettings = try Unsubscribe.configured(configuration)
            unsubscribeLoaded = true
        }
        return unsubscribeSettings
    }
}

/// Where DMARC policies come from (DNS, through `DNSDMARCPolicySource`).
public protocol DMARCPolicySource: Sendable {
    /// The policy `domain` publishes (or its organisational domain does).
    func policy(for domain: String) -> DMARCLookup
}

/// What a DMARC lookup found.
public enum DMARCLookup: Sendable, Equatable {
    /// No record, or `p=none`: mail from the domain may be relayed unchanged.
    case none
    /// `p=quarantine`.
    case quarantine
    /// `p=reject`.
    case reject
    /// The lookup failed (timeout, server failure); the reason is for the log.
    case unavailable(String)

    /// Whether relaying the poster's From unchanged would fail DMARC at strict receivers.
    public var requiresRewrite: Bool { self == .quarantine || self == .reject }
}
