/// An unsubscribe request: a token from the one-click URL (`mark --unsubscribe TOKEN`, which the
/// web endpoint calls) or from a `mailto:` request (route's `unsubscribe` handler).
///
/// A token that verifies puts its address into `suppress`: for all mail when it came with bulk
/// mail, for its list only (a `list=` entry) when it came with a list copy. A forged, altered,
/// malformed, expired or future-dated token changes nothing: it is logged and refused (77).
/// Recording twice is harmless: an address already covered is not added again.
public struct Unsubscription: MarkRecord {
    /// What the token says, or why it is refused.
    public let verdict: Result<UnsubscribeToken, UnsubscribeToken.Refusal>
    /// How the request came, for the log and the entry's note: `link`, `mailto from <a@b>`.
    public let channel: String
    /// When the request is recorded (the date in the entry).
    public let now: Timestamp

    /// Checks `token` with the site's unsubscribe key (`unsubscribe_key_file`) and lifetime
    /// (`unsubscribe_token_lifetime`) at `now`. A refused token is not an error here (it is
    /// recorded as a refusal); a missing key or a bad lifetime setting is.
    public init(
        token: String, configuration: Configuration, now: Timestamp = .now(), channel: String = "link"
    ) throws(PostroomError) {
        let key = try UnsubscribeKey.configured(configuration)
        let lifetime = try Self.lifetime(configuration)
        verdict = UnsubscribeToken.verify(token, key: key, now: now, lifetime: lifetime)
        self.channel = channel
        self.now = now
    }

    /// `unsubscribe_token_lifetime` in seconds (0: tokens never expire).
    public static func lifetime(_ configuration: Configuration) throws(PostroomError) -> Int {
        let text = configuration.value(Configuration.unsubscribeTokenLifetime) ?? "180d"
        do {
            return try DurationText.seconds(text)
        } catch {
            throw .configuration(
                location: configuration.path, reason: "unsubscribe_token_lifetime: \(error.description)")
        }
    }

    public var summary: String {
        switch verdict {
        case .success(let token):
            "unsubscribe <\(token.address)> from " + (token.list.map { "the list \($0)" } ?? "all mail")
                + " (token issued \(token.issueDate))"
        case .failure(let refusal):
            "refuse the unsubscribe request (77): \(refusal)"
        }
    }

    public func record(in spool: Spool, configuration: Configuration, log: SpoolLog) throws(PostroomError) -> MarkResult
    {
        let token: UnsubscribeToken
        switch verdict {
        case .success(let verified):
            token = verified
        case .failure(let refusal):
            // Only an authentic token's address is named: a forged one's is whatever the forger wrote.
            let to = refusal.authenticToken.map { "<\($0.address)>" } ?? "?"
            log.record(nil, ["to": to, "via": channel], status: "refused", detail: "unsubscribe: \(refusal)")
            return MarkResult(status: .noPermission, detail: "unsubscribe refused: \(refusal)")
        }
        let date = String(SpoolLog.isoTime(now).prefix(10))
        let entry = SuppressionList.Entry(
            address: token.address, list: token.list,
            note: "\(date) unsubscribed (\(channel), token of \(token.issueDate))")
        let added = try SuppressFile(spool: spool).add(entry)
        var detail = token.list.map { "list=\($0)" } ?? "all mail"
        detail += ", via \(channel)"
        if !added { detail += ", already suppressed" }
        log.record(nil, ["to": "<\(token.address)>"], status: "unsubscribed", detail: detail)
        return MarkResult(detail: "<\(token.address)> unsubscribed (\(detail))")
    }
}
