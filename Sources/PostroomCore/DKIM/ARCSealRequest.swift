/// What `route` asks `deliver` to seal on a list copy, read from its control fields:
/// `X-Postroom-ARC-Seal: DOMAIN INSTANCE CV` and `X-Postroom-ARC-Results: AUTHSERV-ID; RESULTS`.
public struct ARCSealRequest: Sendable, Equatable {
    /// The sealing domain (`d=`): the list address's.
    public var domain: String
    /// The instance the new set gets.
    public var instance: Int
    /// The state of the chain that came in (`cv=`).
    public var chainValidation: ARCChainValidation
    /// The ARC-Authentication-Results payload after `i=N; `.
    public var results: String

    /// A request from its parts.
    public init(domain: String, instance: Int, chainValidation: ARCChainValidation, results: String) {
        self.domain = domain
        self.instance = instance
        self.chainValidation = chainValidation
        self.results = results
    }

    /// The request in `header`'s control fields; nil when it has neither field; throws saying
    /// what is wrong when one is missing, repeated or malformed, or the instance is over 50.
    public init?(controls header: Message) throws(ARCChainError) {
        let seals = header.controls(.arcSeal)
        let results = header.controls(.arcResults)
        guard !seals.isEmpty || !results.isEmpty else { return nil }
        guard seals.count == 1, results.count == 1, header.values(of: ControlHeader.arcSeal.rawValue).count == 1,
            header.values(of: ControlHeader.arcResults.rawValue).count == 1
        else {
            throw ARCChainError(
                "\(ControlHeader.arcSeal.rawValue) and \(ControlHeader.arcResults.rawValue) must be there once each")
        }
        let parts = seals[0].split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else {
            throw ARCChainError("\(ControlHeader.arcSeal.rawValue) \"\(seals[0])\" is not DOMAIN INSTANCE CV")
        }
        let domain = String(parts[0]).lowercased()
        guard AddressParser.isValidDomain(domain) else {
            throw ARCChainError("\(ControlHeader.arcSeal.rawValue): \"\(parts[0])\" is not a domain")
        }
        guard parts[1].utf8.count <= 4, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let instance = Int(parts[1]), (1...ARCSet.maximumInstance).contains(instance)
        else {
            throw ARCChainError(
                "\(ControlHeader.arcSeal.rawValue): instance \"\(parts[1])\" is not 1 to \(ARCSet.maximumInstance)")
        }
        guard let cv = ARCChainValidation(rawValue: parts[2].lowercased()) else {
            throw ARCChainError("\(ControlHeader.arcSeal.rawValue): \"\(parts[2])\" is not none, pass or fail")
        }
        guard (cv == .none) == (instance == 1) else {
            throw ARCChainError(
                "\(ControlHeader.arcSeal.rawValue): cv=\(cv.rawValue) cannot go with instance \(instance)")
        }
        let text = results[0].trimmingWhitespace
        // An authserv-id, then results: text of a header field, never a line break.
        guard !text.isEmpty,
            !text.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 })
        else {
            throw ARCChainError("\(ControlHeader.arcResults.rawValue) is empty or has control characters")
        }
        self.init(domain: domain, instance: instance, chainValidation: cv, results: text)
    }

    /// The control fields that ask for this seal, as `route` writes them (values unescaped).
    public var controlValues: [(ControlHeader, String)] {
        [(.arcSeal, "\(domain) \(instance) \(chainValidation.rawValue)"), (.arcResults, results)]
    }

    /// Whether the ARC fields already in `fields` fit this request: with `cv=none` there are
    /// none; with `cv=pass` they form a chain of `instance - 1` sets; with `cv=fail` (the chain
    /// may be broken) none claims `instance` or above. Throws saying why not.
    public func checkExisting(_ fields: [HeaderField]) throws(ARCChainError) {
        if chainValidation == .fail {
            for field in fields where ARCSet.isARCField(field) {
                if let found = ARCSet.instance(of: field), found >= instance {
                    throw ARCChainError("the message already has an ARC set i=\(found), not below \(instance)")
                }
            }
            return
        }
        let chain = try ARCChain(fields: fields)
        guard chain.latestInstance == instance - 1 else {
            throw ARCChainError(
                "the message has \(chain.latestInstance) ARC sets, so its next instance is not \(instance)")
        }
        if let last = chain.sets.last, last.chainValidation == .fail {
            throw ARCChainError("the chain ended with cv=fail at i=\(last.instance); it cannot pass")
        }
    }

    /// The chain's sets before this one, as the seal signs them (none under `cv=fail`).
    public func previousSets(in fields: [HeaderField]) -> [ARCSet] {
        guard chainValidation != .fail else { return [] }
        return (try? ARCChain(fields: fields).sets) ?? []
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let space: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: space).reversed().drop(while: space).reversed())
    }
}
