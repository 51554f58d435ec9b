import Foundation

/// A real DNS server (Debian's dnsmasq) on 127.0.0.1, UDP and TCP on a port the OS picked,
/// answering the TXT records the test gives. Names under `localDomains` that have no record
/// get NXDOMAIN; any other name is REFUSED (no upstream). Runs in the foreground, killed by
/// PID on release.
public final class DNSTestServer: @unchecked Sendable {
    /// One TXT record: a name and its strings (each up to 255 bytes; dnsmasq sends them in order).
    public struct TXTRecord: Sendable {
        /// The owner name, such as `_dmarc.example.org`.
        public var name: String
        /// The character strings of the record.
        public var strings: [String]

        /// A record of one or more strings.
        public init(_ name: String, _ strings: String...) {
            self.name = name
            self.strings = strings
        }
    }

    /// The port it answers on, UDP and TCP.
    public let port: Int
    private let storage = TemporaryDirectory("dns")
    private var server: ServerProcess?

    /// Starts dnsmasq with `records`; throws when it is not installed or does not come up.
    public init(records: [TXTRecord], localDomains: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq") else {
            throw TestServerError(description: "/usr/sbin/dnsmasq is missing; run make test-deps")
        }
        port = try LocalPort.free()
        // A configuration file rather than arguments: only there does dnsmasq read quoted
        // strings, so a record may hold commas and spaces.
        let lines =
            records.map { record in
                "txt-record=\(record.name)," + record.strings.map { Self.quoted($0) }.joined(separator: ",")
            } + localDomains.map { "local=/\($0)/" }
        try Files.write(storage.file("dnsmasq.conf"), lines.joined(separator: "\n") + "\n")
        let server = try ServerProcess(
            "/usr/sbin/dnsmasq",
            [
                "--keep-in-foreground", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--port=\(port)", "--conf-file=\(storage.file("dnsmasq.conf"))",
                "--pid-file=\(storage.file("dnsmasq.pid"))", "--log-facility=\(storage.file("dnsmasq.log"))",
                "--log-queries",
            ], output: storage.file("dnsmasq.out"))
        self.server = server
        let port = self.port
        guard server.wait(until: { LocalPort.accepts(port) }) else {
            server.stop()
            throw TestServerError(
                description: "dnsmasq did not start: \((try? Files.text(storage.file("dnsmasq.out"))) ?? "")")
        }
    }

    deinit { server?.stop() }

    /// dnsmasq's log so far: each query and its answer.
    public func log() -> String { (try? Files.text(storage.file("dnsmasq.log"))) ?? "" }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
