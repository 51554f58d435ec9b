import PostroomCore
import Testing

@Suite struct DNSConfigurationTests {
    @Test func serverAddressesAndPorts() throws {
        #expect(try DNSResolver.Server(parsing: "127.0.0.1") == DNSResolver.Server(address: "127.0.0.1", port: 53))
        #expect(try DNSResolver.Server(parsing: "127.0.0.1:5353").port == 5353)
        #expect(try DNSResolver.Server(parsing: "[::1]:5353") == DNSResolver.Server(address: "::1", port: 5353))
        #expect(try DNSResolver.Server(parsing: "::1") == DNSResolver.Server(address: "::1", port: 53))
        #expect(try DNSResolver.Server(parsing: "[::1]:5353").description == "[::1]:5353")
    }

    @Test(arguments: ["localhost", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:", "[::1]5353", "1.2.3", ""])
    func badServersAreConfigurationErrors(_ text: String) {
        #expect {
            _ = try DNSResolver.configured(Configuration(text: "dns_server = \(text)"))
        } throws: { error in
            (error as? PostroomError)?.exitStatus == .config
        }
    }

    @Test func timeouts() throws {
        #expect(try DNSResolver.configured(Configuration(text: "")).timeoutMilliseconds == 2000)
        #expect(try DNSResolver.configured(Configuration(text: "")).server == nil)
        #expect(try DNSResolver.configured(Configuration(text: "dns_timeout = 500")).timeoutMilliseconds == 500)
        for text in ["0", "-5", "2s", "600000"] {
            #expect(throws: PostroomError.self) {
                _ = try DNSResolver.configured(Configuration(text: "dns_timeout = \(text)"))
            }
        }
    }

    @Test func aMissingPublicSuffixListIsReportedUpFront() {
        #expect {
            _ = try DNSDMARCPolicySource.configured(Configuration(text: "public_suffix_list = /nonexistent/psl.dat"))
        } throws: { error in
            (error as? PostroomError)?.description.contains("/nonexistent/psl.dat") == true
        }
    }
}
