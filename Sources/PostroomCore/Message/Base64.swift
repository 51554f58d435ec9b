/// Base64 (RFC 4648) for encoded words and MIME bodies, without Foundation.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Encodes `bytes` on one line.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encodedBytes(bytes, lineLength: nil, lineEnding: []), as: UTF8.self)
    }

    /// Encodes `bytes` in lines of `lineLength` characters (MIME uses 76), each ended by `lineEnding`.
    public static func encodedBytes(
        _ bytes: some Collection<UInt8>, lineLength: Int?, lineEnding: [UInt8]
    )
        -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4 + (bytes.count / 57 + 1) * lineEnding.count)
        var column = 0
        var iterator = bytes.makeIterator()
        func emit(_ byte: UInt8) {
            if let lineLength, column == lineLength {
                out.append(contentsOf: lineEnding)
                column = 0
            }
            out.append(byte)
            column += 1
        }
        while let a = iterator.next() {
            let b = iterator.next()
            let c = b == nil ? nil : iterator.next()
            emit(alphabet[Int(a >> 2)])
            emit(alphabet[Int((a & 0x03) << 4 | (b ?? 0) >> 4)])
            emit(b.map { alphabet[Int(($0 & 0x0F) << 2 | (c ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            emit(c.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
        if lineLength != nil && column > 0 { out.append(contentsOf: lineEnding) }
        return out
    }

    /// Decodes base64, ignoring line breaks and whitespace; nil on any other invalid byte.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for byte in text {
            if byte == 32 || byte == 9 || byte == 13 || byte == 10 { continue }
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let value = reverse[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return padding <= 2 ? out : nil
    }
}
