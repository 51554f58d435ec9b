import Glibc

/// Reading messages from files and standard input, for filters and tools.
public enum MessageFile {
    /// Reads a whole file.
    public static func read(_ path: String) throws(PostroomError) -> [UInt8] {
        try FileSystem.readFile(path)
    }

    /// Reads standard input to its end.
    public static func readStandardInput() throws(PostroomError) -> [UInt8] {
        try FileSystem.readAll(STDIN_FILENO, path: "standard input")
    }

    /// Reads standard input, keeping at most `limit` bytes: the rest is read and discarded (so the
    /// writer, an MTA, sees its input taken) and the result says how many bytes there were.
    public static func readStandardInput(
        keepingAtMost limit: Int
    ) throws(PostroomError) -> (
        bytes: [UInt8], total: Int
    ) {
        let limit = max(limit, 0)
        // No limit (Int.max) reads everything; `limit &+ 1` would wrap and read nothing.
        guard limit < Int.max else {
            let all = try FileSystem.readAll(STDIN_FILENO, path: "standard input")
            return (all, all.count)
        }
        // Reserved up front (pages are touched only as bytes arrive), so the buffer is not copied
        // while it grows and a refused message costs its kept bytes once; capped for huge limits.
        var kept = try FileSystem.readAll(
            STDIN_FILENO, path: "standard input", sizeHint: min(limit, 1 << 27) + 65536, stopAt: limit &+ 1)
        guard kept.count > limit else { return (kept, kept.count) }
        var total = kept.count
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: "standard input", errno: errno)
            }
            if count == 0 { break }
            total &+= count
        }
        kept.removeSubrange(limit...)
        return (kept, total)
    }
}
