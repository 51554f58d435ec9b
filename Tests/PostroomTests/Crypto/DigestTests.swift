import Crypto
import PostroomCore
import Testing

@Suite struct DigestTests {
    /// Inputs of awkward lengths around the block size, and a key longer than a block.
    static let messages: [[UInt8]] =
        [[], Array("abc".utf8)]
        + [55, 56, 63, 64, 65, 1000].map { length in
            (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        }

    @Test(arguments: messages)
    func sha256MatchesSwiftCrypto(_ message: [UInt8]) {
        #expect(Digest.hash(.sha256, message) == Array(SHA256.hash(data: message)))
        #expect(Digest.hash(.sha1, message) == Array(Insecure.SHA1.hash(data: message)))
    }

    @Test(arguments: messages)
    func hmacMatchesSwiftCrypto(_ message: [UInt8]) {
        for key in [Array("k".utf8), [UInt8](repeating: 0xA5, count: 100)] {
            let expected256 = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
            #expect(Digest.hmac(.sha256, key: key, message: message) == Array(expected256))
            let expected1 = HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key))
            #expect(Digest.hmac(.sha1, key: key, message: message) == Array(expected1))
        }
    }

    @Test func incrementalHashingEqualsOneShot() {
        let message = Array(repeating: Array("line of mail\n".utf8), count: 500).flatMap { $0 }
        var hasher = Digest.Hasher(.sha256)
        var offset = 0
        while offset < message.count {
            let end = min(offset + 97, message.count)
            hasher.update(message[offset..<end])
            offset = end
        }
        #expect(hasher.finish() == Digest.hash(.sha256, message))
        #expect(Digest.hex([0x00, 0xAB, 0x7F]) == "00ab7f")
    }
}
