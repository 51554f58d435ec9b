import Glibc

/// A message file read in two parts: the header in memory, the body left on disk and read
/// in pieces when needed, so that a large message costs `deliver` a buffer, not its size.
///
/// Spool files never change once written; the file is held open, so the body can still be
/// read after the file is renamed.
public final class StoredMessage: @unchecked Sendable {  // immutable after init; reads use pread
    /// The header (its `body` is empty).
    public let header: Message
    /// The body's length in bytes.
    public let bodyLength: Int
    /// Where the file was when it was opened, for messages.
    public let path: String
    private let bodyOffset: Int
    private let headerLines: Int
    private let fd: Int32
    /// The body of a small file, read with its header.
    private let bodyInMemory: [UInt8]?

    /// The size of the pieces the body is read in.
    package static let chunkSize = 64 * 1024

    /// Opens `path` and reads its header; nil when the header is longer than `headerLimit`
    /// bytes (nil: no limit). A file of up to `chunkSize` bytes is read whole, in one call.
    public static func open(_ path: String, headerLimit: Int?) throws(PostroomError) -> StoredMessage? {
        let fd = try FileSystem.open(path, O_RDONLY)
        do throws(PostroomError) {
            guard let info = FileSystem.status(fd: fd) else { throw .io(operation: "stat", path: path, errno: errno) }
            let fileSize = Int(info.st_size)
            guard let (headerBytes, rest) = try readHeader(fd, path: path, size: fileSize, limit: headerLimit) else {
                close(fd)
                return nil
            }
            return StoredMessage(
                path: path, fd: fd, header: try Message(parsing: headerBytes, source: path),
                headerLines: headerBytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }, bodyOffset: headerBytes.count,
                bodyLength: rest?.count ?? max(0, fileSize - headerBytes.count), bodyInMemory: rest)
        } catch {
            close(fd)
            throw error
        }
    }

    private init(
        path: String, fd: Int32, header: Message, headerLines: Int, bodyOffset: Int, bodyLength: Int,
        bodyInMemory: [UInt8]?
    ) {
        self.path = path
        self.fd = fd
        self.header = header
        self.headerLines = headerLines
        self.bodyOffset = bodyOffset
        self.bodyLength = bodyLength
        self.bodyInMemory = bodyInMemory
    }

    /// The header up to and with its blank line (or the whole file when it has none), and the
    /// rest when the whole file was read; nil past `limit`.
    private static func readHeader(
        _ fd: Int32, path: String, size: Int, limit: Int?
    ) throws(PostroomError) -> ([UInt8], [UInt8]?)? {
        var buffer: [UInt8] = []
        var end: Int?
        var chunk = [UInt8](repeating: 0, count: max(1, min(size, chunkSize)))
        var atEnd = false
        while end == nil || (buffer.count < size && size <= chunkSize) {
            if end == nil, let limit, buffer.count > limit { return nil }
            let count = try read(fd, into: &chunk, at: buffer.count, path: path)
            if count == 0 {
                atEnd = true
                break
            }
            let searchFrom = max(0, buffer.count - 2)
            buffer += chunk[..<count]
            if end == nil { end = headerEnd(buffer, from: searchFrom) }
        }
        let headerLength = end ?? buffer.count
        let whole = atEnd || buffer.count >= size
        return (Array(buffer[..<headerLength]), whole ? Array(buffer[headerLength...]) : nil)
    }

    deinit { close(fd) }

    /// The index just past the blank line that ends the header, if `bytes` holds it.
    private static func headerEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        // A first line that is empty is the parser's to refuse.
        if bytes.first == 10 { return 1 }
        if bytes.starts(with: [13, 10]) { return 2 }
        var index = max(start, 0)
        while index < bytes.count {
            if bytes[index] == 10 {
                if index + 1 < bytes.count && bytes[index + 1] == 10 { return index + 2 }
                if index + 2 < bytes.count && bytes[index + 1] == 13 && bytes[index + 2] == 10 { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    private static func read(
        _ fd: Int32, into buffer: inout [UInt8], at offset: Int, path: String
    ) throws(PostroomError) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            if count >= 0 { return count }
            if errno != EINTR { throw .io(operation: "read", path: path, errno: errno) }
        }
    }

    /// Calls `body` with the body in pieces of at most `chunkSize` bytes, in order; a piece
    /// never ends with a CR unless the body does, so each can be checked on its own.
    /// `unreadable` turns a read error into the caller's error.
    public func forEachBodyChunk<E: Error>(
        _ body: ([UInt8]) throws(E) -> Void, unreadable: (PostroomError) -> E
    ) throws(E) {
        if let bodyInMemory {
            if !bodyInMemory.isEmpty { try body(bodyInMemory) }
            return
        }
        var buffer = [UInt8](repeating: 0, count: min(Self.chunkSize, bodyLength))
        var offset = bodyOffset
        var carried: UInt8?
        let end = bodyOffset + bodyLength
        while offset < end {
            let count: Int
            do throws(PostroomError) {
                count = try Self.read(fd, into: &buffer, at: offset, path: path)
            } catch {
                throw unreadable(error)
            }
            guard count > 0 else {
                throw unreadable(.io(operation: "read (the file is shorter than when opened)", path: path, errno: EIO))
            }
            let taken = min(count, end - offset)
            offset += taken
            var piece = carried.map { [$0] } ?? []
            piece += buffer[..<taken]
            carried = nil
            if offset < end, piece.last == 13 { carried = piece.removeLast() }
            try body(piece)
        }
        if let carried { try body([carried]) }
    }

    /// Refuses what the parser refuses in a body: a NUL byte or a CR not followed by LF.
    package func checkBody() throws(PostroomError) {
        var line = headerLines + 1
        try forEachBodyChunk(
            { (piece) throws(PostroomError) in
                if let problem = MessageParser.firstForbiddenByte(piece) {
                    throw .malformed(
                        what: "message", location: "\(path) line \(line + problem.line - 1)", reason: problem.reason)
                }
                line += piece.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            }, unreadable: { $0 })
    }
}
