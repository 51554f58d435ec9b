/// The chain validation state an ARC-Seal records (`cv=`, RFC 8617 4.1.3).
public enum ARCChainValidation: String, Sendable, CaseIterable {
    /// No chain came in: the seal of instance 1.
    case none
    /// The chain that came in validated.
    case pass
    /// The chain that came in did not validate: the chain ends here.
    case fail
}

/// Why the ARC header fields of a message do not form a chain (RFC 8617 5.2, step 3).
public struct ARCChainError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words for a log or an `arc=fail` comment.
    public let reason: String

    /// An error saying `reason`.
    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// One ARC set (RFC 8617 4.1): the three fields one handler added, all with the same `i=`.
public struct ARCSet: Sendable {
    /// The field names, in the order a seal signs them within a set (5.1.1).
    public static let authenticationResultsName = "ARC-Authentication-Results"
    /// The name of the ARC-Message-Signature field.
    public static let messageSignatureName = "ARC-Message-Signature"
    /// The name of the ARC-Seal field.
    public static let sealName = "ARC-Seal"
    /// The highest instance RFC 8617 allows (4.2.1).
    public static let maximumInstance = 50

    /// The instance (`i=`), 1 to 50.
    public let instance: Int
    /// The ARC-Authentication-Results field.
    public let authenticationResults: HeaderField
    /// The ARC-Message-Signature field.
    public let messageSignature: HeaderField
    /// The ARC-Seal field.
    public let seal: HeaderField
    /// The seal's tags.
    public let sealTags: DKIMTagList
    /// What the message signature covers: a DKIM signature's signed data (5.1.2 of RFC 8617
    /// refers to RFC 6376 3.7), `signingInput(fields:)` over the whole header.
    public let messageSignatureData: DKIMSignedData

    /// The seal's `cv=`.
    public var chainValidation: ARCChainValidation {
        // `init` has checked the value.
        ARCChainValidation(rawValue: (sealTags["cv"] ?? "").lowercased()) ?? .fail
    }

    /// Whether `field` is one of the three ARC fields.
    public static func isARCField(_ field: HeaderField) -> Bool {
        [authenticationResultsName, messageSignatureName, sealName].contains { field.hasName($0) }
    }

    /// The set of three fields of one instance; throws when a field is not usable.
    init(
        instance: Int, authenticationResults: HeaderField, messageSignature: HeaderField, seal: HeaderField
    )
        throws(ARCChainError)
    {
        guard let sealTags = DKIMTagList(parsing: seal.value) else {
            throw ARCChainError("ARC-Seal i=\(instance) is not a tag list")
        }
        for tag in ["a", "b", "d", "s"] where sealTags[tag] == nil {
            throw ARCChainError("ARC-Seal i=\(instance) has no \(tag)= tag")
        }
        guard sealTags["h"] == nil else { throw ARCChainError("ARC-Seal i=\(instance) has an h= tag") }
        guard let cv = sealTags["cv"], ARCChainValidation(rawValue: cv.lowercased()) != nil else {
            throw ARCChainError("ARC-Seal i=\(instance) has no cv= of none, pass or fail")
        }
        guard let signed = DKIMSignedData(messageSignature) else {
            throw ARCChainError("ARC-Message-Signature i=\(instance) is not a usable signature (tags, h=, b=, c=)")
        }
        for tag in ["a", "bh", "d", "s"] where signed.tags[tag] == nil {
            throw ARCChainError("ARC-Message-Signature i=\(instance) has no \(tag)= tag")
        }
        // An AMS may not cover seals (4.1.2): they are added after it.
        guard !signed.signedNames.contains(where: { HeaderField.namesEqual($0, Self.sealName) }) else {
            throw ARCChainError("ARC-Message-Signature i=\(instance) signs ARC-Seal")
        }
        self.instance = instance
        self.authenticationResults = authenticationResults
        self.messageSignature = messageSignature
        self.seal = seal
        self.sealTags = sealTags
        self.messageSignatureData = signed
    }

    /// The instance an ARC field names: `i=` of its tag list, or the `i=N;` an
    /// ARC-Authentication-Results value starts with; nil when it has none or it is not 1 to 50.
    public static func instance(of field: HeaderField) -> Int? {
        let text: Substring
        if field.hasName(authenticationResultsName) {
            let value = field.value
            guard let semicolon = value.firstIndex(of: ";") else { return nil }
            guard let tags = DKIMTagList(parsing: String(value[..<semicolon])), tags.tags.count == 1 else {
                return nil
            }
            text = Substring(tags["i"] ?? "")
        } else {
            guard let tags = DKIMTagList(parsing: field.value), let value = tags["i"] else { return nil }
            text = Substring(value)
        }
        // Digits only: no sign, no spaces; "01" is 1 as RFC 6376's number syntax allows.
        guard !text.isEmpty, text.utf8.count <= 4, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let number = Int(text), (1...maximumInstance).contains(number)
        else { return nil }
        return number
    }

    /// The bytes a seal signs (RFC 8617 5.1.1): the sets before it in instance order, each
    /// as ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal, then its own set with
    /// `unsignedSeal` (the seal with an empty `b=`) last and without its final CRLF; relaxed
    /// header canonicalisation throughout. A seal with `cv=fail` passes no `previous` (5.1.2).
    public static func sealSignedData(
        previous: some Sequence<ARCSet>, authenticationResults: HeaderField, messageSignature: HeaderField,
        unsignedSeal: HeaderField
    ) -> [UInt8] {
        let relaxed = DKIMCanonicalization.relaxed
        var input: [UInt8] = []
        for set in previous {
            input += relaxed.header(set.authenticationResults)
            input += relaxed.header(set.messageSignature)
            input += relaxed.header(set.seal)
        }
        input += relaxed.header(authenticationResults)
        input += relaxed.header(messageSignature)
        input += relaxed.header(unsignedSeal)[...].dropLast(2)
        return input
    }
}

/// The ARC sets of a message, in instance order 1 to N.
public struct ARCChain: Sendable {
    /// The sets; `sets[k]` has instance `k + 1`. Empty when the message has no ARC field.
    public let sets: [ARCSet]

    /// The highest instance (0 without sets).
    public var latestInstance: Int { sets.count }

    /// Reads the ARC fields among `fields` (the header, in order); throws when they do not
    /// form a chain: a field without a usable instance, an instance over 50, two fields of
    /// one kind in an instance, a set missing a field, a gap in the instances, a set's fields
    /// not usable, or a `cv=` that does not fit its place (`none` only and always at i=1).
    public init(fields: [HeaderField]) throws(ARCChainError) {
        var found: [Int: [String: HeaderField]] = [:]
        let names = [ARCSet.authenticationResultsName, ARCSet.messageSignatureName, ARCSet.sealName]
        for field in fields {
            guard let name = names.first(where: { field.hasName($0) }) else { continue }
            guard let instance = ARCSet.instance(of: field) else {
                throw ARCChainError("\(name) has no instance i= from 1 to \(ARCSet.maximumInstance)")
            }
            guard found[instance, default: [:]][name] == nil else {
                throw ARCChainError("two \(name) fields with i=\(instance)")
            }
            found[instance, default: [:]][name] = field
        }
        var sets: [ARCSet] = []
        for instance in 1..<(found.count + 1) {
            guard let set = found[instance] else {
                throw ARCChainError("ARC sets are not numbered 1 to \(found.count) (i=\(instance) is missing)")
            }
            guard let results = set[names[0]], let signature = set[names[1]], let seal = set[names[2]] else {
                let missing = names.filter { set[$0] == nil }.joined(separator: ", ")
                throw ARCChainError("the ARC set i=\(instance) has no \(missing)")
            }
            let parsed = try ARCSet(
                instance: instance, authenticationResults: results, messageSignature: signature, seal: seal)
            if (instance == 1) != (parsed.chainValidation == .none) {
                throw ARCChainError("ARC-Seal i=\(instance) has cv=\(parsed.chainValidation.rawValue)")
            }
            sets.append(parsed)
        }
        self.sets = sets
    }

    /// The set with `instance`, if there is one.
    public func set(_ instance: Int) -> ARCSet? {
        sets.indices.contains(instance - 1) ? sets[instance - 1] : nil
    }

    /// The bytes the seal of set `instance` signs, as a validator recomputes them: its `b=`
    /// value removed, the sets before it included unless it says `cv=fail`; nil when there is
    /// no such set or its seal has no `b=`.
    public func sealSignedData(upTo instance: Int) -> [UInt8]? {
        guard let set = set(instance), let unsigned = DKIMSignedData.removingSignature(from: set.seal.raw) else {
            return nil
        }
        return ARCSet.sealSignedData(
            previous: set.chainValidation == .fail ? [] : sets[..<(instance - 1)],
            authenticationResults: set.authenticationResults, messageSignature: set.messageSignature,
            unsignedSeal: HeaderField(name: set.seal.name, raw: unsigned))
    }
}
