/// A list's use of message authentication: whether it needs the `verify` program's report for
/// a post (only a list that seals copies with ARC or requires signed posts ever runs it), the
/// signature policy, and the ARC control fields each copy gets for `deliver` to seal.
struct ListAuthentication {
    /// The list's address's domain, lower case.
    let listDomain: String
    /// Whether copies are sealed: `arc=`, by default yes when a DKIM key of the list's domain
    /// (or a parent) is configured.
    let seals: Bool
    /// Whether posts need an aligned DKIM signature: `require_signature=`.
    let requiresSignature: Bool

    init(settings: ListSettings, list: String, configuration: Configuration) throws(PostroomError) {
        listDomain = IncomingMessage.split(list).domain.lowercased()
        requiresSignature = settings.requireSignature
        if let arc = settings.arc {
            seals = arc
        } else {
            seals = try Self.hasKey(for: listDomain, configuration: configuration)
        }
    }

    /// Whether the `dkim` key names one for `domain` or a parent of it (the names only: the key
    /// files are deliver's to read).
    static func hasKey(for domain: String, configuration: Configuration) throws(PostroomError) -> Bool {
        guard let list = configuration.value(Configuration.dkim), !domain.isEmpty else { return false }
        let domains: [String]
        do throws(DKIMKeyName.ParseError) {
            domains = try DKIMKeyName.parseList(list).map(\.domain)
        } catch {
            throw .configuration(location: configuration.path ?? Configuration.dkim.name, reason: error.description)
        }
        return domains.contains { domain == $0 || domain.hasSuffix("." + $0) }
    }

    /// Whether the post must be checked at all.
    var needsReport: Bool { seals || requiresSignature }

    /// The control fields asking `deliver` to add the next ARC set, or nil with the reason when
    /// the chain cannot take one (50 sets already, or a failed chain without a usable instance).
    /// An `arc=temperror` (a key lookup got no answer) is a temporary failure: route exits 75.
    func sealControls(
        report: VerifyReport, message: IncomingMessage, configuration: Configuration
    ) throws(PostroomError) -> (controls: [(ControlHeader, String)], note: String) {
        if report.arc.result == "temperror" {
            throw .temporary("the post's ARC chain could not be checked: \(report.arc.comment)")
        }
        let instance = report.arcInstance + 1
        guard instance <= ARCSet.maximumInstance, report.chain != .fail || instance > 1 else {
            return ([], "not ARC-sealed (the chain has \(report.arcInstance) sets, cv=\(report.chain.rawValue))")
        }
        let authservID = configuration.value(Configuration.authservID) ?? listDomain
        let results = Self.results(report: report, message: message.message, authservID: authservID)
        let seal = "\(listDomain) \(instance) \(report.chain.rawValue)"
        return (
            [(.arcSeal, seal), (.arcResults, "\(authservID); \(AuthenticationResults.text(results))")],
            "ARC i=\(instance) cv=\(report.chain.rawValue)"
        )
    }

    /// The results the ARC set records: the dkim, spf and dmarc results of this site's own
    /// Authentication-Results fields (`authservID`; any other id may be forged and is ignored),
    /// the report's dkim results when the site gave none, and the report's arc result.
    static func results(report: VerifyReport, message: Message, authservID: String) -> [AuthenticationResult] {
        var trusted: [AuthenticationResult] = []
        for value in message.values(of: AuthenticationResults.fieldName) {
            guard let parsed = AuthenticationResults.parse(value),
                parsed.authservID.lowercased() == authservID.lowercased()
            else { continue }
            trusted += parsed.results.filter { ["dkim", "spf", "dmarc"].contains($0.method) }
        }
        let dkim = trusted.contains { $0.method == "dkim" } ? [] : report.dkim
        return dkim + trusted + [report.arc]
    }
}
