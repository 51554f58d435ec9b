import Crypto
import PostroomCore
import _CryptoExtras

/// A public key from a DKIM key record, for verifying signatures: RSA from the DER that DKIM
/// publishes (SubjectPublicKeyInfo, or bare PKCS#1 RSAPublicKey as some signers publish it),
/// 1024 bits or more (RFC 8301 lets verifiers accept 1024), or Ed25519's 32 raw bytes (RFC 8463).
public struct DKIMPublicKey: Sendable {
    private enum Key: @unchecked Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    private let key: Key

    /// The key of `record`; throws why it is unusable (revoked, a type postroom does not know,
    /// bytes that are not a key, an RSA key under 1024 bits).
    public init(record: DKIMKeyRecord) throws(DKIMKeyRecordError) {
        guard !record.isRevoked else { throw DKIMKeyRecordError("the key was revoked (empty p=)") }
        switch record.keyType {
        case "rsa":
            do {
                key = .rsa(try _RSA.Signing.PublicKey(unsafeDERRepresentation: record.publicKey))
            } catch {
                throw DKIMKeyRecordError("p= is not an RSA public key of 1024 bits or more")
            }
        case "ed25519":
            do {
                key = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: record.publicKey))
            } catch {
                throw DKIMKeyRecordError("p= is not a 32-byte Ed25519 public key")
            }
        default:
            throw DKIMKeyRecordError("the key type k=\(record.keyType) is not supported")
        }
    }

    /// Whether `signature` signs `data` (the DKIM signing input): RSASSA-PKCS1-v1_5 over its
    /// SHA-256, or Ed25519 over its SHA-256 (RFC 8463 3).
    public func isValidSignature(_ signature: [UInt8], for data: [UInt8]) -> Bool {
        let digest = SHA256.hash(data: data)
        switch key {
        case .rsa(let rsa):
            return rsa.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        case .ed25519(let ed):
            return ed.isValidSignature(signature, for: Array(digest))
        }
    }
}
