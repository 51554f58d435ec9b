/// SHA-1, SHA-256 and HMAC (FIPS 180-4, RFC 2104), written out in Swift.
///
/// `route` starts once per incoming message and must do so in a few milliseconds. swift-crypto
/// brings Foundation; OpenSSL's libcrypto costs about 9 million instructions in the dynamic loader
/// and its provider set-up before the first digest (callgrind, on this project's machines), more
/// than the rest of a route run. These are small, fixed algorithms, and the tests check every
/// function against swift-crypto on inputs around the block boundaries.
public enum Digest: Sendable {
    /// The hash functions in use: SHA-256 for tokens and keys, SHA-1 where a peer's format
    /// fixes it (SRS, as postsrsd computes it).
    public enum Algorithm: Sendable {
        case sha1
        case sha256

        /// The digest's length in bytes.
        public var length: Int { self == .sha1 ? 20 : 32 }
    }

    /// The digest of `bytes`.
    public static func hash(_ algorithm: Algorithm, _ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = Hasher(algorithm)
        hasher.update(bytes)
        return hasher.finish()
    }

    /// HMAC of `message` under `key` (RFC 2104).
    public static func hmac(_ algorithm: Algorithm, key: [UInt8], message: some Collection<UInt8>) -> [UInt8] {
        var block = key.count > 64 ? hash(algorithm, key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = Hasher(algorithm)
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = Hasher(algorithm)
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(inner.finish())
        return outer.finish()
    }

    /// Lowercase hexadecimal of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes { Hex.append(byte, to: &out, lowercase: true) }
        return String(decoding: out, as: UTF8.self)
    }

    /// An incremental digest, for input read in pieces.
    public struct Hasher: Sendable {
        private let algorithm: Algorithm
        private var state: [UInt32]
        private var pending: [UInt8] = []
        private var length: UInt64 = 0

        /// A digest in progress.
        public init(_ algorithm: Algorithm) {
            self.algorithm = algorithm
            switch algorithm {
            case .sha1: state = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
            case .sha256:
                state = [
                    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab,
                    0x5be0_cd19,
                ]
            }
            pending.reserveCapacity(64)
        }

        /// Adds `bytes`.
        public mutating func update(_ bytes: some Collection<UInt8>) {
            length &+= UInt64(bytes.count)
            var index = bytes.startIndex
            // Top up a partial block first, then take whole blocks straight from the input.
            while !pending.isEmpty && index != bytes.endIndex {
                pending.append(bytes[index])
                index = bytes.index(after: index)
                if pending.count == 64 {
                    compress(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
            }
            let rest = bytes[index...]
            let handled: Int? = rest.withContiguousStorageIfAvailable { buffer in
                var offset = 0
                while buffer.count - offset >= 64 {
                    compress(buffer[offset..<offset + 64])
                    offset += 64
                }
                pending.append(contentsOf: buffer[offset...])
                return offset
            }
            if handled == nil {
                for byte in rest {
                    pending.append(byte)
                    if pending.count == 64 {
                        compress(pending[...])
                        pending.removeAll(keepingCapacity: true)
                    }
                }
            }
        }

        /// The digest.
        public mutating func finish() -> [UInt8] {
            let bits = length &* 8
            var tail = pending
            tail.append(0x80)
            while tail.count % 64 != 56 { tail.append(0) }
            for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> shift)) }
            var offset = 0
            while offset < tail.count {
                compress(tail[offset..<offset + 64])
                offset += 64
            }
            pending.removeAll()
            var out: [UInt8] = []
            out.reserveCapacity(state.count * 4)
            for word in state {
                out += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> $0) }
            }
            return out
        }

        private mutating func compress<C: Collection<UInt8>>(_ block: C) where C.Index == Int {
            var words = [UInt32](repeating: 0, count: algorithm == .sha1 ? 80 : 64)
            var index = block.startIndex
            for word in 0..<16 {
                words[word] =
                    UInt32(block[index]) << 24 | UInt32(block[index + 1]) << 16 | UInt32(block[index + 2]) << 8
                    | UInt32(block[index + 3])
                index += 4
            }
            switch algorithm {
            case .sha1: compressSHA1(&words)
            case .sha256: compressSHA256(&words)
            }
        }

        private mutating func compressSHA1(_ w: inout [UInt32]) {
            for t in 16..<80 { w[t] = rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1) }
            var (a, b, c, d, e) = (state[0], state[1], state[2], state[3], state[4])
            for t in 0..<80 {
                let (f, k): (UInt32, UInt32)
                switch t {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let temp = rotateLeft(a, 5) &+ f &+ e &+ k &+ w[t]
                (e, d, c, b, a) = (d, c, rotateLeft(b, 30), a, temp)
            }
            state[0] &+= a
            state[1] &+= b
            state[2] &+= c
            state[3] &+= d
            state[4] &+= e
        }

        private mutating func compressSHA256(_ w: inout [UInt32]) {
            for t in 16..<64 {
                let s0 = rotateRight(w[t - 15], 7) ^ rotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotateRight(w[t - 2], 17) ^ rotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (
                state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7]
            )
            for t in 0..<64 {
                let s1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
                let choice = (e & f) ^ (~e & g)
                let temp1 = h &+ s1 &+ choice &+ Self.roundConstants[t] &+ w[t]
                let s0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let temp2 = s0 &+ majority
                (h, g, f, e, d, c, b, a) = (g, f, e, d &+ temp1, c, b, a, temp1 &+ temp2)
            }
            for (index, value) in [a, b, c, d, e, f, g, h].enumerated() { state[index] &+= value }
        }

        private func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
        private func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }

        private static let roundConstants: [UInt32] = [
            0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
            0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
            0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
            0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
            0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
            0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
            0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
            0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
        ]
    }
}
