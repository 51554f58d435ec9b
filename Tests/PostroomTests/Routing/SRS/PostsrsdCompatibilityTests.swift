import Foundation
import PostroomCore
import TestSupport
import Testing

/// Our SRS beside Debian's postsrsd with the same key and domain: each reads the other's
/// addresses, and both write the same ones.
@Suite struct PostsrsdCompatibilityTests {
    @Test func postsrsdAndRouteAgree() throws {
        let postsrsd = try PostsrsdServer(key: "s3cret key", domain: "srs.example.org")
        let srs = try SRS(keys: [Array("s3cret key".utf8)], domain: "srs.example.org")
        let senders = [
            "alice@example.com", "Bob.Smith@Mail.Example.CO.UK", "SRS0=abcd=AB=example.com=carol@other.net",
            "SRS1=wxyz=first.example==abcd=AB=example.com=dave@second.example",
        ]
        for sender in senders {
            // Both sides stamp today's date: ask again if midnight fell in between.
            var ours = ""
            var theirs = ""
            for _ in 0..<2 {
                ours = srs.forward(sender: sender)
                theirs = try postsrsd.forward(sender)
                if ours == srs.forward(sender: sender) { break }
            }
            #expect(ours == theirs, "forward \(sender)")
            #expect(try postsrsd.reverse(ours) == (try srs.reverse(address: ours)), "postsrsd reverses ours")
            #expect(try srs.reverse(address: theirs) == (try postsrsd.reverse(theirs)), "we reverse postsrsd's")
        }
        // Case changed on the way back: both still accept it.
        let upper = srs.forward(sender: "erin@example.com").uppercased()
        #expect(try postsrsd.reverse(upper) == "ERIN@EXAMPLE.COM")
        #expect(try srs.reverse(address: upper) == "ERIN@EXAMPLE.COM")
        // A forged hash: both refuse.
        let forged = "SRS0=AAAA=" + srs.forward(sender: "erin@example.com").dropFirst(10)
        #expect(try postsrsd.reverse(forged) == nil)
        #expect(throws: SRSError.self) { try srs.reverse(address: forged) }
    }
}

/// Debian's postsrsd 1.x, unpacked by `make test-deps` into .build/postsrsd (or installed),
/// on 127.0.0.1 with two ports the OS picked; killed on release.
final class PostsrsdServer: @unchecked Sendable {
    let forwardPort: Int
    let reversePort: Int
    private let storage = TemporaryDirectory("postsrsd")
    private let process: BackgroundProcess

    init(key: String, domain: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let candidates = ["\(root)/.build/postsrsd/usr/sbin/postsrsd", "/usr/sbin/postsrsd"]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PostsrsdError("postsrsd is missing: run make test-deps (it unpacks it into .build/postsrsd)")
        }
        let secret = storage.file("secret")
        try Files.write(secret, key + "\n")
        forwardPort = try EximTestServer.freePort()
        reversePort = try EximTestServer.freePort()
        process = try BackgroundProcess(
            binary,
            ["-s", secret, "-d", domain, "-l", "127.0.0.1", "-4", "-f", "\(forwardPort)", "-r", "\(reversePort)"],
            output: storage.file("log"))
        let deadline = Date().addingTimeInterval(10)
        while !(Self.reachable(forwardPort) && Self.reachable(reversePort)) {
            guard Date() < deadline, process.isRunning else {
                throw PostsrsdError("postsrsd did not start: \((try? Files.text(storage.file("log"))) ?? "")")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The forward lookup (Postfix tcp_table: `get ADDRESS`).
    func forward(_ address: String) throws -> String {
        guard let answer = try query(forwardPort, address) else {
            throw PostsrsdError("postsrsd did not rewrite \(address)")
        }
        return answer
    }

    /// The reverse lookup, or nil when postsrsd refuses the address.
    func reverse(_ address: String) throws -> String? { try query(reversePort, address) }

    private func query(_ port: Int, _ address: String) throws -> String? {
        guard let fd = Self.connect(port) else { throw PostsrsdError("cannot reach postsrsd") }
        defer { close(fd) }
        let request = Array("get \(address)\n".utf8)
        guard write(fd, request, request.count) == request.count else {
            throw PostsrsdError("cannot write to postsrsd")
        }
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 && byte != 10 { reply.append(byte) }
        let line = String(decoding: reply, as: UTF8.self)
        // 200 VALUE (URL-encoded), 500 not found / refused.
        guard line.hasPrefix("200 ") else { return nil }
        return String(line.dropFirst(4)).removingPercentEncoding
    }

    private static func reachable(_ port: Int) -> Bool {
        guard let fd = connect(port) else { return false }
        close(fd)
        return true
    }

    private static func connect(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        if connected { return fd }
        close(fd)
        return nil
    }
}

/// postsrsd could not be started or asked.
struct PostsrsdError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
