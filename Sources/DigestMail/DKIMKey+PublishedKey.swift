import Crypto
import Foundation
import _CryptoExtras

extension DKIMKey {
    /// `rsa` or `ed25519`: the `k=` of the key's DNS record.
    public var recordKeyType: String {
        switch secret {
        case .rsa: "rsa"
        case .ed25519: "ed25519"
        }
    }

    /// The RSA key's size in bits; nil for Ed25519.
    public var rsaBits: Int? {
        if case .rsa(let key) = secret { key.keySizeInBits } else { nil }
    }

    /// Whether a published `p=` (its decoded bytes) is this key's public half. RSA keys published as a
    /// bare PKCS#1 RSAPublicKey instead of a SubjectPublicKeyInfo match too, as verifiers accept both.
    public func matchesPublishedKey(_ bytes: [UInt8]) -> Bool {
        switch secret {
        case .ed25519(let key):
            return Array(key.publicKey.rawRepresentation) == bytes
        case .rsa(let key):
            if Array(key.publicKey.derRepresentation) == bytes { return true }
            // From the modulus and exponent, never from the DER itself: swift-crypto frees a key twice when
            // BoringSSL cannot read the DER it is given (see RSAKeyDER), and these bytes come from DNS.
            guard let (modulus, exponent) = RSAKeyDER.rsaPublicKey(spkiOrPKCS1: bytes),
                let published = try? _RSA.Signing.PublicKey(n: modulus, e: exponent)
            else { return false }
            return published.derRepresentation == key.publicKey.derRepresentation
        }
    }

    /// The size in bits of a published RSA key (`p=`'s bytes); nil when it is not one.
    public static func publishedRSABits(_ bytes: [UInt8]) -> Int? {
        RSAKeyDER.rsaPublicKey(spkiOrPKCS1: bytes).map { RSAKeyDER.bits(ofModulus: $0.modulus) }
    }

    /// The `v=DKIM1; k=…; p=…` value of the key's record, unsplit.
    public var dnsRecordValue: String {
        "v=DKIM1; k=\(recordKeyType); p=\(publicKeyBase64)"
    }
}
