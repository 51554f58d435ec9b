import COpenSSL

/// Digests and HMACs through OpenSSL's libcrypto.
///
/// The core stays free of Foundation (swift-crypto needs it), so `route` starts in a few
/// milliseconds; the tests check these against swift-crypto.
public enum Digest: Sendable {
    /// The hash functions in use: SHA-256 for tokens and keys, SHA-1 where a peer's format
    /// fixes it (SRS, as postsrsd computes it).
    public enum Algorithm: Sendable {
        case sha1
        case sha256

        var evp: OpaquePointer? {
            switch self {
            case .sha1: EVP_sha1()
            case .sha256: EVP_sha256()
            }
        }

        /// The digest's length in bytes.
        public var length: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            }
        }
    }

    /// The digest of `bytes`.
    public static func hash(_ algorithm: Algorithm, _ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = Hasher(algorithm)
        hasher.update(bytes)
        return hasher.finish()
    }

    /// HMAC of `message` under `key`.
    public static func hmac(_ algorithm: Algorithm, key: [UInt8], message: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(message)
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBytes { keyBuffer in
            bytes.withUnsafeBytes { messageBuffer in
                _ = HMAC(
                    algorithm.evp, keyBuffer.baseAddress, Int32(keyBuffer.count),
                    messageBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBuffer.count,
                    &out, &length)
            }
        }
        return Array(out.prefix(Int(length)))
    }

    /// Lowercase hexadecimal of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { Hex.append(byte, to: &out, lowercase: true) }
        return String(decoding: out, as: UTF8.self)
    }

    /// An incremental digest, for input read in pieces.
    public struct Hasher: ~Copyable {
        private let context: OpaquePointer?

        /// A digest in progress.
        public init(_ algorithm: Algorithm) {
            context = EVP_MD_CTX_new()
            EVP_DigestInit_ex(context, algorithm.evp, nil)
        }

        deinit { EVP_MD_CTX_free(context) }

        /// Adds `bytes`.
        public mutating func update(_ bytes: some Collection<UInt8>) {
            let contiguous: Void? = bytes.withContiguousStorageIfAvailable { buffer in
                _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
            }
            if contiguous == nil {
                let copy = Array(bytes)
                copy.withUnsafeBytes { _ = EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
            }
        }

        /// The digest; the hasher is used up.
        public consuming func finish() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &out, &length)
            return Array(out.prefix(Int(length)))
        }
    }
}
