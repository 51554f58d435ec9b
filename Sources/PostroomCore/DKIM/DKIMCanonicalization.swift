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
/// their file in chunks: the pieces' outputs, in order, are the canonical body. A line's bytes
/// are written as they come; the line endings of empty lines are held back until a non-empty
/// line shows they were not trailing. The whole body is always covered (postroom never writes `l=`).
public struct DKIMBodyCanonicalizer: Sendable {
    private let relaxed: Bool
    /// Whether the current line has written anything (relaxed: anything but whitespace).
    private var inLine = false
    /// Relaxed: a run of whitespace pending, written as one space if more of the line follows.
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

    /// The canonical bytes the next piece of the body adds.
    public mutating func update(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let out = bytes.withContiguousStorageIfAvailable({ update(buffer: $0) }) { return out }
        return Array(bytes).withUnsafeBufferPointer { update(buffer: $0) }
    }

    // One pass, state in locals, straight into the output: per-byte calls on `self` and a
    // line buffer copied again cost more than the hashing (perf on bench/dkim.sh).
    private mutating func update(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count + 16)
        var state = State(inLine: inLine, space: space, emptyLines: emptyLines, wroteLine: wroteLine)
        var previousCR = previousCR
        for byte in buffer {
            if byte == 10 {
                state.endLine(into: &out)
                previousCR = false
                continue
            }
            if previousCR { state.add(13, relaxed: relaxed, into: &out) }
            previousCR = byte == 13
            if !previousCR { state.add(byte, relaxed: relaxed, into: &out) }
        }
        (inLine, space, emptyLines, wroteLine) = (state.inLine, state.space, state.emptyLines, state.wroteLine)
        self.previousCR = previousCR
        return out
    }

    /// The rest of the canonical body: a last line without a line ending gets one; trailing
    /// empty lines are dropped; an empty body is CRLF under simple, nothing under relaxed.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        var state = State(inLine: inLine, space: space, emptyLines: emptyLines, wroteLine: wroteLine)
        if previousCR { state.add(13, relaxed: relaxed, into: &out) }
        previousCR = false
        if state.inLine { state.endLine(into: &out) }
        if !state.wroteLine && !relaxed { out += [13, 10] }
        (inLine, space, emptyLines, wroteLine) = (state.inLine, state.space, state.emptyLines, state.wroteLine)
        return out
    }

    /// The line state, a value the loop keeps in registers.
    private struct State {
        var inLine: Bool
        var space: Bool
        var emptyLines: Int
        var wroteLine: Bool

        @inline(__always)
        mutating func add(_ byte: UInt8, relaxed: Bool, into out: inout [UInt8]) {
            if relaxed && (byte == 32 || byte == 9) {
                space = true
                return
            }
            if !inLine {
                for _ in 0..<emptyLines {
                    out.append(13)
                    out.append(10)
                }
                emptyLines = 0
                inLine = true
                wroteLine = true
            }
            if space { out.append(32) }
            space = false
            out.append(byte)
        }

        @inline(__always)
        mutating func endLine(into out: inout [UInt8]) {
            // Relaxed drops whitespace at the end of a line: a pending run is never written.
            space = false
            guard inLine else {
                emptyLines += 1
                return
            }
            out.append(13)
            out.append(10)
            inLine = false
        }
    }
}
