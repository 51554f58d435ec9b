import Foundation
import Glibc

/// A real DNS server (Debian's dnsmasq-base) on 127.0.0.1, on a port the OS picked, serving the
/// TXT records given and nothing else: other names in `localDomains` are NXDOMAIN, names
/// outside them are refused (dnsmasq has no upstream). Killed on release.
public final class DNSMasqServer: @unchecked Sendable {
    /// A TXT record: its name and its character strings (several make one record).
    public struct TXT: Sendable {
        /// The owner name.
        public var name: String
        /// The strings, each at most 255 bytes.
        public var strings: [String]

        /// A record from parts.
        public init(_ name: String, _ strings: String...) {
            self.name = name
            self.strings = strings
        }
    }

    /// The port it listens on (UDP and TCP).
    public let port: Int
    /// The address it listens on: `127.0.0.1`, or `::1` for `ipv6`.
    public let address: String
    private let process: BackgroundProcess
    private let storage: TemporaryDirectory

    /// Starts dnsmasq with `records`, authoritative for `localDomains`; throws when it is not
    /// installed or does not come up.
    public init(records: [TXT], localDomains: [String], ipv6: Bool = false) throws {
        let binary = "/usr/sbin/dnsmasq"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestServerError(description: "\(binary) is missing; run make test-deps (dnsmasq-base)")
        }
        address = ipv6 ? "::1" : "127.0.0.1"
        let storage = TemporaryDirectory("dnsmasq")
        // The records go into a configuration file: only there does dnsmasq read quoted strings.
        let records = records.map { record in
            "txt-record=\(record.name)," + record.strings.map { "\"\($0)\"" }.joined(separator: ",") + "\n"
        }
        let configuration = storage.file("dnsmasq.conf")
        try Files.write(configuration, records.joined())
        var lastError = ""
        // A port free for TCP may still be taken for UDP: try a few.
        for _ in 0..<5 {
            let port = try LocalPort.free()
            var arguments = [
                "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=\(address)", "--port=\(port)", "--conf-file=\(configuration)",
                "--log-facility=/dev/null",
                "--user=\(ProcessInfo.processInfo.userName)", "--pid-file",
            ]
            arguments += localDomains.map { "--local=/\($0)/" }
            let log = storage.file("dnsmasq.log")
            let process = try BackgroundProcess(binary, arguments, output: log)
            // Ready when it takes TCP connections on its port (it opens UDP first).
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && !Self.accepts(address: address, port: port) && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            if process.isRunning && Self.accepts(address: address, port: port) {
                self.port = port
                self.process = process
                self.storage = storage
                return
            }
            lastError = (try? Files.text(log)) ?? ""
        }
        throw TestServerError(description: "dnsmasq did not start: \(lastError)")
    }

    /// The `dns_server` value that names it: `127.0.0.1:PORT` or `[::1]:PORT`.
    public var server: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

    static func accepts(address: String, port: Int) -> Bool {
        let family = address.contains(":") ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        if family == AF_INET6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_addr = in6addr_loopback
            socketAddress.sin6_port = UInt16(port).bigEndian
            return withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
                }
            }
        }
        return LocalPort.accepts(port)
    }
}

/// A server program running in the background, started with posix_spawn rather than
/// Foundation's Process (which waits forever for a daemon like dnsmasq that closes the
/// descriptors it inherited). Killed with SIGKILL, by its PID, on release.
public final class BackgroundProcess: @unchecked Sendable {
    /// The process ID.
    public let pid: pid_t
    private var exited = false

    /// Starts `path` with `arguments`, standard input from /dev/null, both outputs into `output`.
    public init(_ path: String, _ arguments: [String], output: String) throws {
        pid = try ChildProcess.spawn(path, arguments, environment: ProcessInfo.processInfo.environment, output: output)
    }

    /// Whether it is still running (reaps it once it has exited).
    public var isRunning: Bool {
        if exited { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { exited = true }
        return !exited
    }

    // SIGKILL: the test runner may start children with SIGTERM ignored.
    deinit {
        guard !exited else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }
}

/// A UDP socket on 127.0.0.1 that receives DNS queries and never answers: a server that
/// times out. Closed on release.
public final class SilentUDPServer: @unchecked Sendable {
    /// The port it is bound to.
    public let port: Int
    private let fd: Int32

    /// Binds a UDP socket to a port the OS picks.
    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        do {
            port = try LocalPort.bind(fd)
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// The `dns_server` value that names it.
    public var server: String { "127.0.0.1:\(port)" }
}
