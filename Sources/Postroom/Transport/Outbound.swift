/// A message on its way out: its envelope and its content as sent (LF line endings, internal
/// fields removed), held in memory or, for a spool file, read from the file in pieces.
public struct Outbound: Sendable, Equatable {
    /// Who it is from and to.
    public var envelope: Envelope
    /// The header (or, for a message in memory, everything).
    private let head: [UInt8]
    /// The body still in its file, if the message came from one.
    private let stored: StoredMessage?
    /// The DATA section of a small message, made once when it was measured.
    private let wire: [UInt8]?
    /// Its size in bytes, LF line endings: what `message_size_limit` counts.
    public let size: Int
    /// The size of its DATA section on the wire (CRLF, dot-stuffed, `.` CRLF): what SIZE= announces.
    public let wireSize: Int
    /// Whether it has bytes over 127 (so BODY=8BITMIME).
    public let hasEightBit: Bool
    /// How it was DKIM-signed, to sign it again if it changes on the way (nil: unsigned).
    public let resigning: Resigning?

    /// What signing a changed message again needs: the header as it was before signing.
    public struct Resigning: Sendable {
        /// The signer that signed it.
        public var signer: DKIMSigner
        /// The header before the signatures were added (internal fields already removed).
        public var unsignedHeader: Message
        /// The `t=` of the first signatures, kept for the new ones.
        public var timestamp: Int
        /// The ARC set added after the signatures, when one was: made again too.
        public var arc: ARCSealRequest?
        /// The parts.
        public init(signer: DKIMSigner, unsignedHeader: Message, timestamp: Int, arc: ARCSealRequest? = nil) {
            (self.signer, self.unsignedHeader, self.timestamp, self.arc) = (signer, unsignedHeader, timestamp, arc)
        }
    }

    /// A message in memory.
    public init(data: [UInt8], envelope: Envelope) {
        self.envelope = envelope
        head = data
        stored = nil
        resigning = nil
        size = data.count
        // Nothing to read, so nothing can fail.
        let measured = try? Self.measure(head: data, stored: nil)
        (wireSize, hasEightBit, wire) = (
            measured?.wireSize ?? data.count, measured?.hasEightBit ?? false, measured?.wire
        )
    }

    /// The message in `stored` with `header` (its internal fields removed) in place of the
    /// file's; reads the body once to measure it and to refuse what the parser refuses (NUL, bare CR).
    /// `resigning` says how `header` was signed, when it was.
    public init(
        header: Message, body stored: StoredMessage, envelope: Envelope, resigning: Resigning? = nil
    ) throws(PostroomError) {
        self.envelope = envelope
        head = header.bytes
        self.stored = stored
        self.resigning = resigning
        size = head.count + stored.bodyLength
        let measured = try Self.measure(head: head, stored: stored)
        // Read again to name the line: rare, and never for a message the spool's stages wrote.
        if measured.hasForbiddenByte {
            try stored.checkBody()
            throw .malformed(what: "message", location: stored.path, reason: "contains a NUL byte or a bare CR")
        }
        (wireSize, hasEightBit, wire) = (measured.wireSize, measured.hasEightBit, measured.wire)
    }

    /// The wire size, what the encoder saw, and the DATA section itself when it is small
    /// (keeping up to 128 KiB costs less than making it again when sent).
    private static func measure(
        head: [UInt8], stored: StoredMessage?
    ) throws(PostroomError) -> (wireSize: Int, hasEightBit: Bool, hasForbiddenByte: Bool, wire: [UInt8]?) {
        var wire = 0
        var kept: [UInt8]? = []
        let encoder = try forEachWireChunk(
            head: head, stored: stored,
            { (piece) throws(PostroomError) in
                wire += piece.count
                kept = wire > 2 * StoredMessage.chunkSize ? nil : kept.map { $0 + piece }
            }, unreadable: { $0 })
        return (wire, encoder.hasEightBit, encoder.hasForbiddenByte, kept)
    }

    /// Whether the header has bytes over 127 (so SMTPUTF8 is needed); reads nothing.
    public var hasEightBitHeader: Bool { SevenBitDowngrade.hasEightBitHeader(head) }

    /// The whole message in one buffer (for transports that take one: sendmail, a maildir).
    public func contiguousBytes() throws(PostroomError) -> [UInt8] {
        guard let stored else { return head }
        var bytes = head
        bytes.reserveCapacity(size)
        try stored.forEachBodyChunk({ (piece) throws(PostroomError) in bytes += piece }, unreadable: { $0 })
        return bytes
    }

    /// The message with every body part 7-bit (`SevenBitDowngrade`), for a server without
    /// 8BITMIME; a signed message is signed again over the converted bytes, since the old
    /// signatures cover the 8-bit body. A failure is what cannot be converted; a throw, what
    /// cannot be read.
    public func sevenBit() throws(PostroomError) -> Result<Outbound, SevenBitDowngrade.Impossible> {
        var bytes = try contiguousBytes()
        if let resigning { bytes = resigning.unsignedHeader.bytes + bytes[head.count...] }
        let converted: [UInt8]
        do throws(SevenBitDowngrade.Impossible) {
            converted = try SevenBitDowngrade.convert(bytes)
        } catch {
            return .failure(error)
        }
        guard let resigning else { return .success(Outbound(data: converted, envelope: envelope)) }
        var message = try Message(parsing: converted, source: stored?.path)
        let body = message.body
        _ = try resigning.signer.sign(header: &message, timestamp: resigning.timestamp) { $0(body) }
        if let arc = resigning.arc {
            _ = try ARCSealer(signer: resigning.signer).seal(
                header: &message, request: arc, timestamp: resigning.timestamp
            ) { $0(body) }
        }
        return .success(Outbound(data: message.bytes, envelope: envelope))
    }

    /// Calls `body` with the DATA section (`WireFormat.smtpData` of the message) in pieces of
    /// about 128 KiB at most, reading the file as it goes; `unreadable` turns a read error
    /// into the caller's error.
    public func forEachWireChunk<E: Error>(
        _ body: ([UInt8]) throws(E) -> Void, unreadable: (PostroomError) -> E
    ) throws(E) {
        if let wire { return try body(wire) }
        _ = try Self.forEachWireChunk(head: head, stored: stored, body, unreadable: unreadable)
    }

    /// The pieces, and the encoder that made them (what it saw).
    private static func forEachWireChunk<E: Error>(
        head: [UInt8], stored: StoredMessage?, _ body: ([UInt8]) throws(E) -> Void,
        unreadable: (PostroomError) -> E
    ) throws(E) -> WireFormat.SMTPDataEncoder {
        var encoder = WireFormat.SMTPDataEncoder()
        var start = 0
        repeat {
            let end = min(head.count, start + StoredMessage.chunkSize)
            let last = end == head.count && (stored?.bodyLength ?? 0) == 0
            try body(encoder.encode(head[start..<end], finishing: last))
            start = end
        } while start < head.count
        guard let stored, stored.bodyLength > 0 else { return encoder }
        var read = 0
        try stored.forEachBodyChunk(
            { (piece) throws(E) in
                read += piece.count
                try body(encoder.encode(piece, finishing: read == stored.bodyLength))
            }, unreadable: unreadable)
        return encoder
    }

    /// The same envelope and content (for a body in a file: the same open file).
    public static func == (lhs: Outbound, rhs: Outbound) -> Bool {
        lhs.envelope == rhs.envelope && lhs.head == rhs.head && lhs.stored === rhs.stored
    }
}
