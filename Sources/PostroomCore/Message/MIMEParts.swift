/// The parts of a multipart body, split at its boundary lines (RFC 2046 section 5.1.1).
///
/// Shared by the MIME tree of the library (templates, 7-bit downgrade) and by readers in the
/// core that look inside a message route receives (a bounce's delivery-status report).
package enum MIMEParts {
    /// The bodies between `--boundary` lines, preamble and epilogue dropped; a missing closing
    /// delimiter ends the last part at the end of the body (broken MIME is read, not refused).
    package static func split(_ body: [UInt8], boundary: String) -> [[UInt8]] {
        scan(body, boundary: boundary).parts
    }

    /// `split`, and whether the closing delimiter (`--boundary--`) was there.
    package static func scan(_ body: [UInt8], boundary: String) -> (parts: [[UInt8]], isClosed: Bool) {
        let delimiter = Array("--\(boundary)".utf8)
        var chunks: [[UInt8]] = []
        var current: [UInt8]?
        var start = 0
        while start < body.count {
            var end = start
            while end < body.count && body[end] != 10 { end += 1 }
            var line = body[start..<end]
            if line.last == 13 { line = line.dropLast() }
            let next = end < body.count ? end + 1 : end
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: "--".utf8)
                let trailing = closing ? rest.dropFirst(2) : rest
                if trailing.allSatisfy({ $0 == 32 || $0 == 9 }) {
                    if var finished = current {
                        // The line break before a delimiter belongs to the delimiter.
                        if finished.last == 10 { finished.removeLast() }
                        if finished.last == 13 { finished.removeLast() }
                        chunks.append(finished)
                    }
                    if closing { return (chunks, true) }
                    current = []
                    start = next
                    continue
                }
            }
            current?.append(contentsOf: body[start..<next])
            start = next
        }
        if let current { chunks.append(current) }
        return (chunks, false)
    }
}
