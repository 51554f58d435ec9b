/// Conversion between the spool's LF files and what SMTP carries.
public enum WireFormat {
    /// Every line ended by CRLF: LF becomes CRLF, existing CRLF stays, and a final
    /// line without an ending gets one (SMTP's DATA needs whole lines).
    public static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32 + 2)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 10 && previous != 13 { out.append(13) }
            out.append(byte)
            previous = byte
        }
        if let last = out.last, last != 10 { out += [13, 10] }
        return out
    }

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

    /// SMTP DATA transparency (RFC 5321 4.5.2): a line starting with `.` gets another `.`.
    /// Expects CRLF input; does not add the final `.` line.
    public static func dotStuffed(_ crlfBytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(crlfBytes.count + 16)
        var atLineStart = true
        for byte in crlfBytes {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            out.append(byte)
            atLineStart = byte == 10
        }
        return out
    }
}
