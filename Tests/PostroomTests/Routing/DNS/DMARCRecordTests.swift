import PostroomCore
import Testing

@Suite struct DMARCRecordTests {
    @Test func policyTags() throws {
        let record = try #require(DMARCRecord(parsing: "v=DMARC1; p=Reject; sp=none; rua=mailto:a@example.org"))
        #expect(record.disposition(subdomain: false) == .reject)
        #expect(record.disposition(subdomain: true) == .none)
        let spaced = try #require(DMARCRecord(parsing: " v = DMARC1 ;p = quarantine ; "))
        #expect(spaced.disposition(subdomain: true) == .quarantine)
    }

    @Test func onlyRecordsThatStartWithTheVersionAreDMARCRecords() {
        #expect(DMARCRecord(parsing: "p=reject; v=DMARC1") == nil)
        #expect(DMARCRecord(parsing: "v=DMARC10; p=reject") == nil)
        #expect(DMARCRecord(parsing: "v=dmarc1; p=reject") == nil)
        #expect(DMARCRecord(parsing: "v=spf1 -all") == nil)
        #expect(DMARCRecord(parsing: "") == nil)
    }

    @Test func aMissingOrInvalidPolicyAppliesNone() throws {
        #expect(try #require(DMARCRecord(parsing: "v=DMARC1")).disposition(subdomain: false) == .none)
        #expect(try #require(DMARCRecord(parsing: "v=DMARC1; p=block")).disposition(subdomain: false) == .none)
        // An invalid sp voids the record (RFC 7489 6.6.3), for the domain itself too.
        #expect(try #require(DMARCRecord(parsing: "v=DMARC1; p=reject; sp=x")).disposition(subdomain: false) == .none)
    }

    @Test func whatRequiresARewrite() {
        #expect(DMARCLookup.reject.requiresRewrite)
        #expect(DMARCLookup.quarantine.requiresRewrite)
        #expect(!DMARCLookup.none.requiresRewrite)
    }
}
