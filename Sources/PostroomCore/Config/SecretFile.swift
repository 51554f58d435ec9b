import Glibc

/// Secrets (SMTP password, unsubscribe key) read from files that only their owner may read.
public enum SecretFile {
    /// Reads a secret, refusing a file that others can read or write.
    ///
    /// Trailing line breaks and spaces are dropped, since editors add them.
    public static func read(_ path: String, purpose: String) throws(PostroomError) -> [UInt8] {
        guard let info = FileSystem.status(path) else {
            throw .configuration(location: path, reason: "the \(purpose) file does not exist")
        }
        guard info.st_mode & 0o007 == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw .configuration(
                location: path,
                reason: "the \(purpose) file is accessible to all users (mode \(mode)); run chmod 600 \(path)")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch {
            throw .configuration(location: path, reason: "cannot read the \(purpose) file: \(error.description)")
        }
        let trimmed = Array(bytes.reversed().drop { $0 == 10 || $0 == 13 || $0 == 32 || $0 == 9 }.reversed())
        guard !trimmed.isEmpty else { throw .configuration(location: path, reason: "the \(purpose) file is empty") }
        return trimmed
    }
}
