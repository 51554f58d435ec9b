import PostroomCore
import TestSupport
import Testing

/// DMARC policies looked up through the system resolver library against a real dnsmasq.
@Suite(.serialized) struct DMARCLookupTests {
    static let records: [DNSMasqServer.TXT] = [
        .init("_dmarc.reject.test", "v=DMARC1; p=reject"),
        .init("_dmarc.quarantine.test", "v=DMARC1;p=quarantine;pct=50"),
        .init("_dmarc.none.test", "v=DMARC1; p=none; rua=mailto:reports@none.test"),
        // The organisational domain's record: sp for its subdomains.
        .init("_dmarc.example.co.uk", "v=DMARC1; p=reject; sp=quarantine"),
        .init("_dmarc.nosp.co.uk", "v=DMARC1; p=reject"),
        // A subdomain's own record wins over its organisational domain's.
        .init("_dmarc.own.example.co.uk", "v=DMARC1; p=none"),
        // Two DMARC records: neither applies (RFC 7489 6.6.3).
        .init("_dmarc.multi.test", "v=DMARC1; p=reject"),
        .init("_dmarc.multi.test", "v=DMARC1; p=quarantine"),
        // Other TXT records beside the DMARC one are not DMARC records.
        .init("_dmarc.mixed.test", "v=spf1 -all"),
        .init("_dmarc.mixed.test", "v=DMARC1; p=reject"),
        // A record in several strings is read as one.
        .init("_dmarc.split.test", "v=DMARC1; p=", "reject"),
        // Not a DMARC record at all.
        .init("_dmarc.other.test", "v=DMARC10; p=reject"),
    ]

    let server: DNSMasqServer
    let source: DNSDMARCPolicySource

    init() throws {
        server = try DNSMasqServer(
            records: Self.records, localDomains: ["test", "co.uk", "mail.outside.example"])
        source = try DNSDMARCPolicySource.configured(Configuration(text: "dns_server = \(server.server)"))
    }

    @Test func policiesFromTheDomainsOwnRecord() {
        #expect(source.policy(for: "reject.test") == .reject)
        #expect(source.policy(for: "quarantine.test") == .quarantine)
        #expect(source.policy(for: "none.test") == .none)
        #expect(source.policy(for: "example.co.uk") == .reject)
        #expect(source.policy(for: "split.test") == .reject)
        #expect(source.policy(for: "mixed.test") == .reject)
        #expect(source.policy(for: "Reject.TEST.") == .reject)
    }

    @Test func aSubdomainWithoutARecordTakesItsOrganisationalDomainsPolicy() {
        // mail.example.co.uk has no record; example.co.uk is its organisational domain, and its sp applies.
        #expect(source.policy(for: "mail.example.co.uk") == .quarantine)
        #expect(source.policy(for: "a.b.nosp.co.uk") == .reject)
        #expect(source.policy(for: "lists.reject.test") == .reject)
        #expect(source.policy(for: "own.example.co.uk") == .none)
    }

    @Test func noRecordOrSeveralMeanNoPolicy() {
        #expect(source.policy(for: "multi.test") == .none)
        #expect(source.policy(for: "absent.test") == .none)
        #expect(source.policy(for: "deep.absent.test") == .none)
        #expect(source.policy(for: "other.test") == .none)
        // A public suffix has no organisational domain above it.
        #expect(source.policy(for: "co.uk") == .none)
        // A name that cannot exist is not looked up.
        #expect(source.policy(for: "bad domain.test") == .none)
        #expect(source.policy(for: "") == .none)
    }

    @Test func aRefusingServerMakesTheLookupUnavailable() {
        // dnsmasq refuses names outside its local domains (it has no upstream).
        guard case .unavailable(let reason) = source.policy(for: "outside.example") else {
            Issue.record("expected .unavailable")
            return
        }
        #expect(reason.contains("outside.example"))
        // The domain's own lookup says no record; its organisational domain's is refused.
        guard case .unavailable = source.policy(for: "mail.outside.example") else {
            Issue.record("expected .unavailable for the organisational domain's failure")
            return
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        let silent = try SilentUDPServer()
        let source = try DNSDMARCPolicySource.configured(
            Configuration(text: "dns_server = \(silent.server)\ndns_timeout = 1000"))
        guard case .unavailable(let reason) = source.policy(for: "reject.test") else {
            Issue.record("expected .unavailable")
            return
        }
        #expect(reason.contains("127.0.0.1:\(silent.port)"))
        #expect(reason.contains("no answer in time"))
    }

    @Test func txtRecordsAreJoinedAndMissingNamesAreNoRecord() throws {
        let resolver = try DNSResolver.configured(Configuration(text: "dns_server = \(server.server)"))
        #expect(resolver.txt("_dmarc.split.test") == .found(["v=DMARC1; p=reject"]))
        #expect(resolver.txt("_dmarc.multi.test").records.sorted() == ["v=DMARC1; p=quarantine", "v=DMARC1; p=reject"])
        #expect(resolver.txt("nothing.test") == .noRecord)
        // The name exists (it has TXT records) but the question is for a name below it.
        #expect(resolver.txt("x._dmarc.reject.test") == .noRecord)
    }

    @Test func anIPv6ServerIsAskedToo() throws {
        let server6 = try DNSMasqServer(records: Self.records, localDomains: ["test"], ipv6: true)
        let source = try DNSDMARCPolicySource.configured(Configuration(text: "dns_server = \(server6.server)"))
        #expect(source.policy(for: "quarantine.test") == .quarantine)
    }
}

extension DNSTXTLookup {
    fileprivate var records: [String] {
        if case .found(let records) = self { return records }
        return []
    }
}
