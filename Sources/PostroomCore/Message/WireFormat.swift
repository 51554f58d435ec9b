/// Conversion between the spool's LF files and what SMTP carries.
public enum WireFormat {
    /// Every CRLF turned into LF, as the spool stores messages.
    public static func lf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 13, index + 1 < bytes.count, bytes[index + 1] == 10 {
                index += 1
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    /// The DATA section of a message as it goes on the wire: every line ended by CRLF (LF
    /// becomes CRLF, CRLF stays, a last line without an ending gets one), a line starting with
    /// `.` gets another (RFC 5321 4.5.2), and `.` CRLF ends it. One pass, one allocation.
    public static func smtpData(_ bytes: [UInt8]) -> [UInt8] {
        var encoder = SMTPDataEncoder()
        return encoder.encode(bytes, finishing: true)
    }

    /// `smtpData` a piece at a time, for messages streamed from their file: the pieces'
    /// outputs, in order, are `smtpData` of the whole.
    public struct SMTPDataEncoder: Sendable {
        private var previous: UInt8 = 10
        /// Whether a byte over 127 went through (BODY=8BITMIME).
        public private(set) var hasEightBit = false
        /// Whether a NUL or a CR not followed by LF went through: what the parser refuses.
        public private(set) var hasForbiddenByte = false

        /// An encoder at the start of a message.
        public init() {}

        /// The wire form of the next piece; `finishing` adds the end (a line ending if the
        /// last line lacks one, then `.` CRLF) after it.
        public mutating func encode(_ bytes: some Collection<UInt8>, finishing: Bool = false) -> [UInt8] {
            // Arrays and their slices (every caller) go through a buffer: fast even unoptimised.
            if let encoded = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0, finishing: finishing) }) {
                return encoded
            }
            return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0, finishing: finishing) }
        }

        private mutating func encode(buffer bytes: UnsafeBufferPointer<UInt8>, finishing: Bool) -> [UInt8] {
            let dot = UInt8(ascii: ".")
            let cr: UInt8 = 13
            let lf: UInt8 = 10
            var last = previous
            var high: UInt8 = 0
            var forbidden = false
            // At most two bytes out for each in (a CR before each LF, a dot before each line), plus the end.
            let encoded = [UInt8](unsafeUninitializedCapacity: bytes.count * 2 + 5) { out, written in
                var count = 0
                for byte in bytes {
                    high |= byte
                    if byte == 0 || (last == cr && byte != lf) { forbidden = true }
                    if last == lf && byte == dot {
                        out[count] = dot
                        count += 1
                    }
                    if byte == lf && last != cr {
                        out[count] = cr
                        count += 1
                    }
                    out[count] = byte
                    count += 1
                    last = byte
                }
                if finishing {
                    if last == cr { forbidden = true }
                    if last != lf {
                        out[count] = cr
                        out[count + 1] = lf
                        count += 2
                    }
                    out[count] = dot
                    out[count + 1] = cr
                    out[count + 2] = lf
                    count += 3
                    last = lf
                }
                written = count
            }
            previous = last
            hasEightBit = hasEightBit || high >= 0x80
            hasForbiddenByte = hasForbiddenByte || forbidden
            return encoded
        }
    }

    /// What a server receives for one message after EHLO without PIPELINING or extensions: the
    /// envelope commands, DATA and the DATA section (what `deliver --dry-run` prints).
    public static func smtpTranscript(_ data: [UInt8], envelope: Envelope) -> [UInt8] {
        var out = Array("MAIL FROM:<\(envelope.sender ?? "")>\r\n".utf8)
        for recipient in envelope.recipients { out += Array("RCPT TO:<\(recipient)>\r\n".utf8) }
        if let loopback = envelope.loopback { out += Array("RCPT TO:<\(loopback)>\r\n".utf8) }
        out += Array("DATA\r\n".utf8)
        out += smtpData(data)
        return out
    }
}
