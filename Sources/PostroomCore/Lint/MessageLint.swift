/// Checks one message against what large receivers require of bulk mail (the Gmail and
/// Yahoo sender rules of 2024): an aligned DKIM domain, Message-ID and Date, one-click
/// unsubscribe covered by the signature, lines within 998 octets, sound MIME, and header
/// text that needs no SMTPUTF8.
///
/// The message is checked as it would go on the wire: `X-Postroom-` fields and Bcc, which
/// `deliver` removes, are not looked at.
public struct MessageLint: Sendable {
    /// The domains `deliver` signs for (the `dkim` key, `--dkim`); empty when none is configured.
    public var dkimDomains: [String]
    /// For organisational domains (relaxed alignment, as DMARC has it).
    public var publicSuffixList: PublicSuffixList

    /// A lint with these settings.
    public init(dkimDomains: [String], publicSuffixList: PublicSuffixList) {
        self.dkimDomains = dkimDomains
        self.publicSuffixList = publicSuffixList
    }

    /// A lint set up from the configuration, `--dkim` values winning over the `dkim` key.
    public static func configured(
        _ configuration: Configuration, dkim flags: [String]
    ) throws(PostroomError)
        -> MessageLint
    {
        let specs = flags.isEmpty ? configuration.value(Configuration.dkim).map { [$0] } ?? [] : flags
        let source = flags.isEmpty ? "dkim" : "--dkim"
        var domains: [String] = []
        // Each --dkim may be a list too. Lint never opens the key files (it may run where they
        // are not readable): only the domains count. A bad one is a usage error (64).
        for item in specs {
            do throws(DKIMKeyName.ParseError) {
                domains += try DKIMKeyName.parseList(item).map(\.domain)
            } catch {
                throw .usage("\(source): \(error)")
            }
        }
        let list = configuration.value(Configuration.publicSuffixList) ?? ""
        return MessageLint(dkimDomains: domains, publicSuffixList: PublicSuffixList(path: list))
    }

    /// Every finding for the message in `bytes`, errors first.
    public func check(_ bytes: [UInt8]) -> [LintFinding] {
        var findings = LineLengthCheck.check(bytes)
        let parsed: Message
        do throws(PostroomError) {
            parsed = try Message(parsing: bytes)
        } catch {
            findings.append(
                LintFinding(
                    .error, "parse", "the message cannot be parsed: \(error.description)",
                    "receivers refuse what they cannot read; fix the message where it was made"))
            return findings
        }
        var message = parsed
        message.removeInternalFields()
        findings += HeaderChecks.check(message)
        findings += SenderAlignmentCheck(lint: self).check(message)
        findings += UnsubscribeCheck.check(message)
        findings += MIMEStructureCheck.check(message)
        return findings.filter { $0.severity == .error } + findings.filter { $0.severity == .warning }
    }
}

extension MessageLint {
    /// `render --lint`: throws `.malformed` (the job fails, exit 65 as a filter) naming every
    /// error when `message` has any; returns its warnings as one text ("" when none).
    public func enforce(on message: Message, source: String) throws(PostroomError) -> String {
        let findings = check(message.bytes)
        let errors = findings.filter { $0.severity == .error }.map { "\($0.what) (\($0.why))" }
        guard errors.isEmpty else {
            throw .malformed(what: "message", location: source, reason: "lint: " + errors.joined(separator: "; "))
        }
        return findings.map { "lint warning: \($0.what) (\($0.why))" }.joined(separator: "; ")
    }
}
