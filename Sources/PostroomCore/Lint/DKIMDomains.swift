/// The signing domains named by DKIM key specifications (`DOMAIN:SELECTOR:KEYFILE`, as
/// OpenDKIM's KeyTable and `deliver --dkim` have them), for the alignment check.
///
/// Only the domain is read here: lint never opens the key files (it may run where they are not
/// readable); `deliver` parses and loads the whole specification.
public enum DKIMDomains {
    /// The domains of `specs`: each item is one specification or a comma-separated list of them
    /// (the `dkim` configuration key). A specification without three parts is a usage error.
    public static func parse(_ specs: [String], source: String) throws(PostroomError) -> [String] {
        var domains: [String] = []
        for item in specs {
            for spec in item.split(separator: ",") {
                let text = String(spec).trimmingSpaces
                let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
                    throw .usage(
                        "\(source) \"\(text.escapingControls)\" is not DOMAIN:SELECTOR:KEYFILE "
                            + "(for example example.org:s2026:/etc/postroom/dkim/s2026.key)")
                }
                var domain = parts[0].lowercased()
                if domain.hasSuffix(".") { domain.removeLast() }
                domains.append(domain)
            }
        }
        return domains
    }
}
