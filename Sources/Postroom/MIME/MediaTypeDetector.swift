import CMagic
import Synchronization

/// Finds a file's MIME type from its content with libmagic, as file(1) does.
public final class MediaTypeDetector: Sendable {
    /// One detector per process: libmagic loads its database once.
    public static let shared = MediaTypeDetector()

    // A magic_t is not thread-safe: every use goes through the mutex.
    private let cookie: Mutex<OpaquePointer?>

    private init() {
        let handle = magic_open(MAGIC_MIME_TYPE)
        if let handle, magic_load(handle, nil) != 0 {
            magic_close(handle)
            cookie = Mutex(nil)
        } else {
            cookie = Mutex(handle)
        }
    }

    /// The MIME type of `bytes`, or `application/octet-stream` when libmagic cannot tell.
    public func mediaType(of bytes: [UInt8]) -> String {
        cookie.withLock { handle -> String in
            guard let handle else { return "application/octet-stream" }
            let result = bytes.withUnsafeBytes { magic_buffer(handle, $0.baseAddress, $0.count) }
            guard let result else { return "application/octet-stream" }
            let type = String(cString: result)
            return type.contains("/") ? type : "application/octet-stream"
        }
    }
}
