/// One SMTP reply (RFC 5321 4.2): a three-digit code and the text of its lines.
public struct SMTPReply: Sendable, Equatable {
    /// `250`, `354`, `451`, `550`...
    public var code: Int
    /// The text after `250-` or `250 ` on each line.
    public var lines: [String]

    /// A reply from its parts.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// `250 2.0.0 Ok: queued as X`, continuation lines joined by spaces, as log lines show it.
    public var text: String {
        let joined = lines.map(\.trimmingSpaces).filter { !$0.isEmpty }.joined(separator: " ")
        return joined.isEmpty ? String(code) : "\(code) \(joined)"
    }

    /// 2xx.
    public var isSuccess: Bool { (200..<300).contains(code) }
    /// 4xx: try again later.
    public var isTemporary: Bool { (400..<500).contains(code) }
    /// 421: the server is closing the connection.
    public var closesConnection: Bool { code == 421 }
}

/// The extensions a server announced in its EHLO reply (RFC 5321 4.1.1.1).
public struct SMTPCapabilities: Sendable, Equatable {
    /// RFC 2920: commands may be sent in groups.
    public var pipelining = false
    /// RFC 1870: the server takes `SIZE=` on MAIL FROM.
    public var size = false
    /// RFC 1870: the largest message accepted, when the server names one.
    public var sizeLimit: Int?
    /// RFC 6152: 8-bit bodies.
    public var eightBitMIME = false
    /// RFC 6531: UTF-8 addresses.
    public var smtpUTF8 = false

    /// No extensions (a server that answered HELO only).
    public init() {}

    /// The extensions in the lines of an EHLO reply; the first line is the server's name.
    public init(ehloLines: [String]) {
        for line in ehloLines.dropFirst() {
            let words = line.split(separator: " ")
            guard let keyword = words.first?.uppercased() else { continue }
            switch keyword {
            case "PIPELINING": pipelining = true
            case "8BITMIME": eightBitMIME = true
            case "SMTPUTF8": smtpUTF8 = true
            case "SIZE":
                size = true
                sizeLimit = words.dropFirst().first.flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
            default: break
            }
        }
    }
}

/// Splits what a server sends into replies, however the bytes were cut up on the way.
struct SMTPReplyReader {
    /// A line that is not a reply line.
    struct Malformed: Error {
        /// What came instead.
        var line: String
    }

    private var buffer: [UInt8] = []
    private var start = 0
    private var lines: [String] = []
    private var code = 0

    /// Bytes as they arrived; what earlier replies used up is dropped first.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received and not yet part of a reply: a guard against a server that never ends a line.
    var pendingByteCount: Int { buffer.count - start }

    /// The next whole reply, or nil until more bytes arrive.
    mutating func next() throws(Malformed) -> SMTPReply? {
        while let end = buffer[start...].firstIndex(of: 10) {
            var lineEnd = end
            if lineEnd > start && buffer[lineEnd - 1] == 13 { lineEnd -= 1 }
            let line = buffer[start..<lineEnd]
            start = end + 1
            guard line.count >= 3, let value = Self.code(line) else {
                throw Malformed(line: String(decoding: line.prefix(80), as: UTF8.self))
            }
            guard lines.isEmpty || value == code else {
                throw Malformed(line: String(decoding: line.prefix(80), as: UTF8.self))
            }
            code = value
            let continues = line.count > 3 && line[line.startIndex + 3] == UInt8(ascii: "-")
            lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
            if !continues {
                let reply = SMTPReply(code: code, lines: lines)
                lines.removeAll()
                return reply
            }
        }
        return nil
    }

    private static func code(_ line: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in line.prefix(3) {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return (200..<600).contains(value) ? value : nil
    }
}
