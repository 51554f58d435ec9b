import Glibc

/// The message files of one directory, read entry by entry with `readdir(3)`.
///
/// Nothing is collected into memory, so a queue of 100,000 messages costs the same
/// few kilobytes as a queue of ten. Dot files and subdirectories are skipped.
public struct DirectoryStream: Sequence {
    /// The directory being read.
    public let path: String

    /// Streams the entries of `path`; the directory is opened when iteration starts.
    public init(path: String) {
        self.path = path
    }

    public func makeIterator() -> Iterator { Iterator(path: path) }

    /// Reads names lazily and closes the directory when done or discarded.
    public final class Iterator: IteratorProtocol, Sequence {
        private var handle: OpaquePointer?
        /// The error that stopped iteration early, if any (an unreadable directory).
        public private(set) var failure: PostroomError?

        init(path: String) {
            handle = opendir(path)
            if handle == nil {
                failure =
                    errno == ENOENT
                    ? .missingInput(path: path, reason: "no such directory; run 'postroom init' to create the spool")
                    : .io(operation: "read directory", path: path, errno: errno)
            }
        }

        public func next() -> String? {
            guard let handle else { return nil }
            while let entry = readdir(handle) {
                let type = entry.pointee.d_type
                if type == UInt8(DT_DIR) { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if MessageName.isMessageFile(name) { return name }
            }
            closedir(handle)
            self.handle = nil
            return nil
        }

        deinit {
            if let handle { closedir(handle) }
        }
    }

    /// Streams the directory, throwing if it cannot be opened.
    public func checked() throws(PostroomError) -> Iterator {
        let iterator = makeIterator()
        if let failure = iterator.failure { throw failure }
        return iterator
    }
}
