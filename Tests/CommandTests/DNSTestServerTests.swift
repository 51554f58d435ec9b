import Foundation
import TestSupport
import Testing

/// The DNS server the DMARC tests name: dnsmasq answers the records the test gives, asked by dig.
@Suite struct DNSTestServerTests {
    func dig(_ server: DNSTestServer, _ arguments: [String]) throws -> ProcessResult {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dig") else {
            throw TestServerError(description: "/usr/bin/dig is missing; run make test-deps")
        }
        return try Run.program("/usr/bin/dig", ["@127.0.0.1", "-p", String(server.port), "+time=5"] + arguments)
    }

    @Test func itAnswersTheGivenTXTRecordsOverUDPAndTCP() throws {
        let policy = #"v=DMARC1; p=reject, "quoted" \ end"#
        let dns = try DNSTestServer(
            records: [.init("_dmarc.example.org", policy), .init("split.example.org", "part one", "part two")],
            localDomains: ["example.org"])
        let escaped = policy.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        for transport in ["+notcp", "+tcp"] {
            let answer = try dig(dns, [transport, "+short", "_dmarc.example.org", "TXT"])
            #expect(answer.stdout == "\"\(escaped)\"\n", "\(answer.stderr)")
        }
        #expect(try dig(dns, ["+short", "split.example.org", "TXT"]).stdout == "\"part one\" \"part two\"\n")
        #expect(dns.log().contains("query[TXT] _dmarc.example.org from 127.0.0.1"), "\(dns.log())")
    }

    @Test func aMissingNameIsNXDOMAINInsideTheLocalDomainsAndRefusedOutside() throws {
        let dns = try DNSTestServer(
            records: [.init("_dmarc.example.org", "v=DMARC1; p=none")], localDomains: ["example.org"])
        #expect(try dig(dns, ["_dmarc.mail.example.org", "TXT"]).stdout.contains("status: NXDOMAIN"))
        #expect(try dig(dns, ["_dmarc.example.net", "TXT"]).stdout.contains("status: REFUSED"))
    }
}
