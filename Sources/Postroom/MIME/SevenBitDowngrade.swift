/// A message with 8-bit body parts made 7-bit for a server that does not offer 8BITMIME, as
/// RFC 6152 section 3 allows: each 8-bit leaf is re-encoded (text as quoted-printable or
/// base64, whichever is shorter; other types as base64), multiparts are walked and a
/// `message/rfc822` part is converted inside. What cannot be converted (8-bit header
/// text, other `message/*` types) is refused, never sent as it is.
public enum SevenBitDowngrade {
    /// Why a message cannot be made 7-bit.
    public struct Impossible: Error, Sendable {
        /// What stands in the way, for the failure reason.
        public var reason: String
    }

    /// Whether the top-level header of `bytes` (a message with LF or CRLF line endings)
    /// holds any byte above 127: such a header needs SMTPUTF8 (RFC 6531, RFC 6532).
    public static func hasEightBitHeader(_ bytes: [UInt8]) -> Bool {
        var previous: UInt8 = 10
        for byte in bytes {
            if byte >= 128 { return true }
            if byte == 10 && previous == 10 { return false }
            if byte != 13 { previous = byte }
        }
        return false
    }

    /// `bytes` (a message, LF line endings) with every body part 7-bit; unchanged when it
    /// already is.
    public static func convert(_ bytes: [UInt8]) throws(Impossible) -> [UInt8] {
        guard bytes.contains(where: { $0 >= 128 }) else { return bytes }
        let message: Message
        do throws(PostroomError) {
            message = try Message(parsing: bytes)
        } catch {
            throw Impossible(reason: "the message cannot be read for conversion: \(error.description)")
        }
        return try convert(message, depth: 0, isTopLevel: true).bytes
    }

    private static func convert(_ entity: Message, depth: Int, isTopLevel: Bool) throws(Impossible) -> Message {
        if entity.fields.contains(where: { $0.raw.contains { $0 >= 128 } }) {
            throw Impossible(reason: "a header field holds 8-bit text, which only SMTPUTF8 may carry")
        }
        guard entity.body.contains(where: { $0 >= 128 }) else { return entity }
        guard depth < 20 else { throw Impossible(reason: "MIME parts are nested more than 20 deep") }
        var message = entity
        let contentType = message.value(of: "Content-Type").map(MediaType.init(parsing:)) ?? .textPlain
        if contentType.isMultipart {
            guard let boundary = contentType[parameter: "boundary"], !boundary.isEmpty else {
                throw Impossible(reason: "\(contentType.value) has no boundary parameter")
            }
            // Preamble and epilogue are dropped: readers ignore them, and they may be 8-bit too.
            var body: [UInt8] = []
            for chunk in MIMEParts.split(message.body, boundary: boundary) {
                let part: Message
                do throws(PostroomError) {
                    part = try MessageParser.parse(chunk, source: nil, isBodyPart: true)
                } catch {
                    throw Impossible(reason: "a body part cannot be read: \(error.description)")
                }
                body += Array("--\(boundary)\n".utf8)
                body += try convert(part, depth: depth + 1, isTopLevel: false).bytes
                body.append(10)
            }
            message.body = body + Array("--\(boundary)--\n".utf8)
            return message
        }
        if contentType.type == "message" {
            // RFC 2046 5.2: a message/* part may not be encoded; only rfc822 can be converted inside.
            guard contentType.value == "message/rfc822" else {
                throw Impossible(reason: "a \(contentType.value) part holds 8-bit data and may not be re-encoded")
            }
            let inner: Message
            do throws(PostroomError) {
                inner = try Message(parsing: message.body)
            } catch {
                throw Impossible(reason: "an attached message cannot be read: \(error.description)")
            }
            message.body = try convert(inner, depth: depth + 1, isTopLevel: false).bytes
            try set("Content-Transfer-Encoding", "7bit", in: &message)
            return message
        }
        let encoding = TransferEncoding(header: message.value(of: "Content-Transfer-Encoding"))
        let decoded = encoding.decode(message.body)
        if contentType.type == "text" {
            let (textEncoding, body) = TransferEncoding.encodeText(decoded)
            message.body = body
            try set("Content-Transfer-Encoding", textEncoding.rawValue, in: &message)
        } else {
            // 8bit data is lines, which the wire carries with CRLF: encode that form.
            let canonical = encoding == .binary ? decoded : crlf(decoded)
            message.body = TransferEncoding.base64.encode(canonical)
            try set("Content-Transfer-Encoding", "base64", in: &message)
        }
        if isTopLevel {
            if !message.contains("Content-Type") {
                // No type said which charset the 8-bit text is in; UTF-8 is the only safe guess.
                guard String(validating: decoded, as: UTF8.self) != nil else {
                    throw Impossible(reason: "the body is 8-bit text in an unknown charset (no Content-Type)")
                }
                try set("Content-Type", "text/plain; charset=utf-8", in: &message)
            }
            if !message.contains("MIME-Version") { try set("MIME-Version", "1.0", in: &message) }
        }
        return message
    }

    private static func set(_ name: String, _ value: String, in message: inout Message) throws(Impossible) {
        do throws(PostroomError) {
            try message.set(name, value)
        } catch {
            throw Impossible(reason: error.description)
        }
    }

    private static func crlf(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32)
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 10 && previous != 13 { out.append(13) }
            out.append(byte)
            previous = byte
        }
        return out
    }
}
