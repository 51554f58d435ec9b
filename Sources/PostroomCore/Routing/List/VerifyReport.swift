/// What the `verify` program found about a post: its two output lines, read.
///
/// Line 1 is an Authentication-Results resinfo (`dkim=pass header.d=example.org ...; arc=none`),
/// line 2 `arc-instance=N cv=none|pass|fail`.
public struct VerifyReport: Sendable, Equatable {
    /// The `dkim=` results, one per signature checked (`dkim=none` when there was none).
    public var dkim: [AuthenticationResult]
    /// The `arc=` result: pass, fail, none, or temperror when a key could not be fetched.
    public var arc: AuthenticationResult
    /// The highest ARC instance in the message (0: none).
    public var arcInstance: Int
    /// The state of the message's ARC chain.
    public var chain: ARCChainValidation

    /// A report from parts.
    public init(dkim: [AuthenticationResult], arc: AuthenticationResult, arcInstance: Int, chain: ARCChainValidation) {
        self.dkim = dkim
        self.arc = arc
        self.arcInstance = arcInstance
        self.chain = chain
    }

    /// Reads the program's output; nil when it is not two such lines.
    public init?(parsing text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count == 2, let parsed = AuthenticationResults.parse("verify; " + lines[0]) else { return nil }
        let words = lines[1].split(separator: " ")
        guard words.count == 2, words[0].hasPrefix("arc-instance="), words[1].hasPrefix("cv="),
            let instance = Int(words[0].dropFirst("arc-instance=".count)),
            (0...ARCSet.maximumInstance).contains(instance),
            let chain = ARCChainValidation(rawValue: String(words[1].dropFirst("cv=".count))),
            let arc = parsed.results.last(where: { $0.method == "arc" })
        else { return nil }
        dkim = parsed.results.filter { $0.method == "dkim" }
        self.arc = arc
        arcInstance = instance
        self.chain = chain
    }

    /// Whether the post has a passing DKIM signature whose `d=` aligns with `fromDomain` as
    /// DMARC's relaxed mode has it (the same organisational domain, from `publicSuffixList`),
    /// or else why not; `temporary` when a key lookup got no answer and no signature passed
    /// (trying later may find one that does). Throws when the list cannot be read.
    public func alignedSignature(
        fromDomain: String?, publicSuffixList: PublicSuffixList
    ) throws(PostroomError) -> (aligned: Bool, temporary: Bool, reason: String) {
        guard let fromDomain = fromDomain?.lowercased(), !fromDomain.isEmpty else {
            return (false, false, "no From domain to align a DKIM signature with")
        }
        for result in dkim where result.result == "pass" {
            guard let domain = result.property("header.d") else { continue }
            if try publicSuffixList.relaxedlyAligned(domain, fromDomain) { return (true, false, "") }
        }
        let temporary = dkim.contains { $0.result == "temperror" }
        let found = dkim.filter { $0.result != "none" }.map { result in
            "\(result.result) d=\(result.property("header.d") ?? "?")"
        }
        let detail = found.isEmpty ? "unsigned" : found.joined(separator: ", ")
        return (false, temporary, "no valid DKIM signature of \(fromDomain) (\(detail))")
    }
}
