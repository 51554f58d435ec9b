import CResolv
import Glibc

/// TXT lookups through the system resolver library (libresolv), asking a chosen server or the
/// ones in /etc/resolv.conf, within a time limit.
public struct DNSResolver: Sendable {
    /// A DNS server to ask instead of the system's.
    public struct Server: Sendable, Equatable, CustomStringConvertible {
        /// An IPv4 or IPv6 address in text form.
        public let address: String
        /// The UDP and TCP port (53 unless given).
        public let port: UInt16

        /// A server from parts; `address` must be an IP address.
        public init(address: String, port: UInt16 = 53) throws(PostroomError) {
            guard Self.isIPAddress(address) else {
                throw .configuration(
                    location: Configuration.dnsServer.name,
                    reason: "\"\(address)\" is not an IP address; write ip or ip:port, e.g. 127.0.0.1:53 or [::1]:53")
            }
            self.address = address
            self.port = port
        }

        /// Parses `ip`, `ip:port`, `[ipv6]` or `[ipv6]:port`; a bare IPv6 address takes port 53.
        public init(parsing text: String) throws(PostroomError) {
            var host = text
            var portText: Substring?
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":") else { throw Self.badPort(text) }
                    portText = rest.dropFirst()
                }
            } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
                host = String(text[..<colon])
                portText = text[text.index(after: colon)...]
            }
            var port: UInt16 = 53
            if let portText {
                guard let number = UInt16(portText), number > 0 else { throw Self.badPort(text) }
                port = number
            }
            try self.init(address: host, port: port)
        }

        /// `address:port`, with brackets around an IPv6 address.
        public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

        private static func badPort(_ text: String) -> PostroomError {
            .configuration(
                location: Configuration.dnsServer.name,
                reason: "\"\(text)\" has no valid port; write ip or ip:port, e.g. 127.0.0.1:5353 or [::1]:5353")
        }

        private static func isIPAddress(_ text: String) -> Bool {
            var buffer = [UInt8](repeating: 0, count: 16)
            return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
        }
    }

    /// The server asked, or nil for the system's (/etc/resolv.conf).
    public let server: Server?
    /// The time limit for one server, in milliseconds (the library counts in whole seconds: rounded up).
    public let timeoutMilliseconds: Int

    /// A resolver from parts.
    public init(server: Server?, timeoutMilliseconds: Int) {
        self.server = server
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The resolver the `dns_server` and `dns_timeout` keys describe.
    public static func configured(_ configuration: Configuration) throws(PostroomError) -> DNSResolver {
        let server = try configuration.value(Configuration.dnsServer).map { text throws(PostroomError) in
            try Server(parsing: text)
        }
        let text = configuration.value(Configuration.dnsTimeout) ?? "2000"
        guard let milliseconds = Int(text), (1...60_000).contains(milliseconds) else {
            throw .configuration(
                location: Configuration.dnsTimeout.name,
                reason: "\"\(text)\" is not a time in milliseconds between 1 and 60000")
        }
        return DNSResolver(server: server, timeoutMilliseconds: milliseconds)
    }

    /// The TXT records of `name`, each one's strings joined (a long record is split into
    /// 255-byte strings on the wire and means the text as a whole).
    public func txt(_ name: String) -> DNSTXTLookup {
        guard Self.isQueryable(name) else { return .noRecord }
        let seconds = Int32((timeoutMilliseconds + 999) / 1000)
        var out = [UInt8](repeating: 0, count: 65536)
        var length: Int32 = 0
        var reason = [CChar](repeating: 0, count: 256)
        let port = server?.port ?? 53
        let status = out.withUnsafeMutableBufferPointer { outBuffer in
            reason.withUnsafeMutableBufferPointer { reasonBuffer in
                let (outBase, outCount) = (outBuffer.baseAddress, Int32(outBuffer.count))
                let (reasonBase, reasonCount) = (reasonBuffer.baseAddress, Int32(reasonBuffer.count))
                let query = { (address: UnsafePointer<CChar>?) in
                    postroom_dns_txt(
                        name, postroom_dns_server(address: address, port: port), seconds, outBase, outCount,
                        &length, reasonBase, reasonCount)
                }
                // The server's address as a C string, or none for the system's servers.
                guard let address = server?.address else { return query(nil) }
                return address.withCString { query($0) }
            }
        }
        switch status {
        case Int32(POSTROOM_DNS_FOUND.rawValue):
            return .found(Self.records(out.prefix(Int(length))))
        case Int32(POSTROOM_DNS_NO_RECORD.rawValue):
            return .noRecord
        default:
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .unavailable("TXT \(name) from \(server?.description ?? "the system's DNS servers"): \(text)")
        }
    }

    /// Splits the shim's output: each record is a 4-byte big-endian length and its text.
    private static func records(_ bytes: ArraySlice<UInt8>) -> [String] {
        var records: [String] = []
        var position = bytes.startIndex
        while bytes.endIndex - position >= 4 {
            var length = 0
            for byte in bytes[position..<position + 4] { length = length << 8 | Int(byte) }
            let start = position + 4
            let end = min(start + length, bytes.endIndex)
            records.append(String(decoding: bytes[start..<end], as: UTF8.self))
            position = end
        }
        return records
    }

    /// Whether `name` can be asked for at all: no bytes the resolver would read as escapes or
    /// that no DNS name holds, labels of 1 to 63 bytes, 253 bytes in all.
    static func isQueryable(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        guard !bytes.contains(where: { $0 <= 32 || $0 == 127 || $0 == UInt8(ascii: "\\") }) else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
            (1...63).contains($0.utf8.count)
        }
    }
}

/// What a TXT lookup found.
public enum DNSTXTLookup: Sendable, Equatable {
    /// The records, each one's strings joined.
    case found([String])
    /// The name does not exist (NXDOMAIN) or has no TXT record.
    case noRecord
    /// No answer: a timeout, a server failure or refusal, a broken answer. The text says which.
    case unavailable(String)
}
