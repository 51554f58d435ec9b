import Glibc

/// Writing to standard output and error without Foundation's buffering surprises.
public enum OutputStream {
    /// Writes every byte to `fd`; a closed pipe or full disk is ignored here (the caller's exit code tells).
    public static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { buffer in
            guard var cursor = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = write(fd, cursor, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                cursor += written
                remaining -= written
            }
        }
    }
}
