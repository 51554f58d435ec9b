/// DKIM canonicalisation (RFC 6376 3.4): the exact bytes a signer and a verifier hash.
///
/// Messages in the spool end their lines with LF and go on the wire with CRLF; both are read
/// here as the CRLF the wire carries, so the spool's form and the wire's canonicalise alike.
public enum DKIMCanonicalization: String, Sendable, CaseIterable {
    /// Fields and body exactly as sent (3.4.1, 3.4.3).
    case simple
    /// Whitespace and field-name case normalised, so relays that refold survive (3.4.2, 3.4.4).
    case relaxed

    /// `HEADER/BODY` as `c=` writes it (`relaxed/simple`); nil for anything else.
    public static func pair(parsing text: String) -> (header: DKIMCanonicalization, body: DKIMCanonicalization)? {
        let modes = text.split(separator: "/", omittingEmptySubsequences: false)
        guard modes.count == 2, let header = Self(rawValue: String(modes[0])),
            let body = Self(rawValue: String(modes[1]))
        else { return nil }
        return (header, body)
    }

    /// The canonical form of one header field, ending with CRLF.
    public func header(_ field: HeaderField) -> [UInt8] {
        switch self {
        case .simple: return Self.crlfLines(field.raw)
        case .relaxed: return Self.relaxedHeader(field.raw)
        }
    }

    /// Every line ending as CRLF (LF alone becomes CRLF); a last line without one gets one.
    static func crlfLines(_ raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + 4)
        var previous: UInt8 = 0
        for byte in raw {
            if byte == 10 && previous != 13 { out.append(13) }
            out.append(byte)
            previous = byte
        }
        if previous != 10 { out += [13, 10] }
        return out
    }

    /// 3.4.2: name lower-cased; line breaks removed; runs of WSP one space; WSP around the
    /// colon and at the end of the value removed.
    static func relaxedHeader(_ raw: [UInt8]) -> [UInt8] {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return crlfLines(raw) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + 2)
        for byte in raw[..<colon] where byte != 32 && byte != 9 {
            out.append(byte >= 65 && byte <= 90 ? byte + 32 : byte)
        }
        out.append(UInt8(ascii: ":"))
        var pendingSpace = false
        var started = false
        for byte in raw[(colon + 1)...] {
            switch byte {
            case 13, 10: continue
            case 32, 9: pendingSpace = started
            default:
                if pendingSpace { out.append(32) }
                pendingSpace = false
                started = true
                out.append(byte)
            }
        }
        out += [13, 10]
        return out
    }
}

/// The canonical body (RFC 6376 3.4.3, 3.4.4) made a piece at a time, for bodies read from
/// their file in chunks: the pieces' outputs, in order, are the canonical body. Trailing
/// empty lines are held back until a non-empty line shows they were not trailing. The whole
/// body is always covered (postroom never writes `l=`).
public struct DKIMBodyCanonicalizer: Sendable {
    private let relaxed: Bool
    /// The current line so far (relaxed: whitespace already collapsed, a run pending in `space`).
    private var line: [UInt8] = []
    private var space = false
    private var previousCR = false
    /// Empty lines seen and not yet written.
    private var emptyLines = 0
    /// Whether any non-empty line has been written.
    private var wroteLine = false

    /// A canonicaliser at the start of a body.
    public init(_ canonicalization: DKIMCanonicalization) {
        relaxed = canonicalization == .relaxed
    }

    /// The canonical bytes the next piece of the body completes.
    public mutating func update(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let out = bytes.withContiguousStorageIfAvailable({ update(buffer: $0) }) { return out }
        return Array(bytes).withUnsafeBufferPointer { update(buffer: $0) }
    }

    // The loop keeps its state in locals and appends to one output: per-byte calls on `self`
    // cost more than the hashing (measured with perf on bench/dkim.sh).
    private mutating func update(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count + 16)
        var (line, space, previousCR, emptyLines, wroteLine) = (
            self.line, self.space, self.previousCR, emptyLines, wroteLine
        )
        self.line = []
        let relaxed = relaxed
        for byte in buffer {
            if byte == 10 {
                // Relaxed drops whitespace at the end of a line: a pending run is never written.
                space = false
                previousCR = false
                Self.endLine(&line, emptyLines: &emptyLines, wroteLine: &wroteLine, into: &out)
                continue
            }
            if previousCR { Self.append(13, to: &line, space: &space, relaxed: relaxed) }
            previousCR = byte == 13
            if !previousCR { Self.append(byte, to: &line, space: &space, relaxed: relaxed) }
        }
        (self.line, self.space, self.previousCR, self.emptyLines, self.wroteLine) = (
            line, space, previousCR, emptyLines, wroteLine
        )
        return out
    }

    @inline(__always)
    private static func append(_ byte: UInt8, to line: inout [UInt8], space: inout Bool, relaxed: Bool) {
        guard relaxed else { return line.append(byte) }
        if byte == 32 || byte == 9 {
            space = true
            return
        }
        if space { line.append(32) }
        space = false
        line.append(byte)
    }

    private static func endLine(
        _ line: inout [UInt8], emptyLines: inout Int, wroteLine: inout Bool, into out: inout [UInt8]
    ) {
        if line.isEmpty {
            emptyLines += 1
            return
        }
        for _ in 0..<emptyLines {
            out.append(13)
            out.append(10)
        }
        emptyLines = 0
        out.append(contentsOf: line)
        out.append(13)
        out.append(10)
        line.removeAll(keepingCapacity: true)
        wroteLine = true
    }

    /// The rest of the canonical body: a last line without a line ending gets one; trailing
    /// empty lines are dropped; an empty body is CRLF under simple, nothing under relaxed.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if previousCR { Self.append(13, to: &line, space: &space, relaxed: relaxed) }
        previousCR = false
        if !line.isEmpty { Self.endLine(&line, emptyLines: &emptyLines, wroteLine: &wroteLine, into: &out) }
        if !wroteLine && !relaxed { out += [13, 10] }
        return out
    }
}
