import Foundation

/// Just enough DER (X.690) to find an RSA public key's modulus and exponent in bytes from outside: a
/// certificate (SNS), a SubjectPublicKeyInfo or a bare PKCS#1 RSAPublicKey (a DKIM record's `p=`).
///
/// Keys are then made from their modulus and exponent, never from DER: swift-crypto's
/// `_RSA.Signing.PublicKey(derRepresentation:)` frees its key twice when BoringSSL cannot read the DER (an
/// abort, or a corrupted heap), so nothing read from outside may reach it.
public enum RSAKeyDER {
    /// One element: its tag, and where its contents and the whole element lie in the bytes.
    struct Element {
        var tag: UInt8
        var contents: Range<Int>
        var whole: Range<Int>
    }

    /// The element starting at `offset`, when it lies within `limit`.
    static func element(_ bytes: [UInt8], at offset: Int, limit: Int) -> Element? {
        guard offset + 2 <= limit else { return nil }
        let tag = bytes[offset]
        guard tag & 0x1F != 0x1F else { return nil }  // high tag numbers: not in a certificate's outline
        var index = offset + 1
        let first = bytes[index]
        index += 1
        var length = 0
        if first < 0x80 {
            length = Int(first)
        } else {
            let count = Int(first & 0x7F)
            guard count >= 1, count <= 4, index + count <= limit else { return nil }
            for _ in 0..<count {
                length = length << 8 | Int(bytes[index])
                index += 1
            }
        }
        guard length >= 0, index + length <= limit else { return nil }
        return Element(tag: tag, contents: index..<(index + length), whole: offset..<(index + length))
    }

    /// The children of a constructed element.
    static func children(_ bytes: [UInt8], of parent: Element) -> [Element]? {
        var found: [Element] = []
        var offset = parent.contents.lowerBound
        while offset < parent.contents.upperBound {
            guard let child = element(bytes, at: offset, limit: parent.contents.upperBound) else { return nil }
            found.append(child)
            offset = child.whole.upperBound
        }
        return found
    }

    /// rsaEncryption, 1.2.840.113549.1.1.1, as DER contents.
    static let rsaEncryption: [UInt8] = [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]

    /// The modulus and exponent (big-endian, without leading zero bytes) of a certificate's RSA key.
    /// Certificate ::= SEQUENCE { tbsCertificate, … }; TBSCertificate ::= SEQUENCE { [0] version OPTIONAL,
    /// serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, … };
    /// SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING (0 unused bits)
    /// holding RSAPublicKey ::= SEQUENCE { INTEGER modulus, INTEGER exponent } }.
    public static func rsaPublicKey(certificate bytes: [UInt8]) -> (modulus: [UInt8], exponent: [UInt8])? {
        guard let certificate = element(bytes, at: 0, limit: bytes.count), certificate.tag == 0x30,
            let tbs = children(bytes, of: certificate)?.first, tbs.tag == 0x30,
            var fields = children(bytes, of: tbs)
        else { return nil }
        if fields.first?.tag == 0xA0 { fields.removeFirst() }
        guard fields.count >= 6, fields[5].tag == 0x30 else { return nil }
        return subjectPublicKeyInfo(bytes, fields[5])
    }

    /// The modulus and exponent of a SubjectPublicKeyInfo or of a bare PKCS#1 RSAPublicKey, the two forms a
    /// DKIM record's `p=` is found in; nil for anything else, or anything with bytes after it.
    public static func rsaPublicKey(spkiOrPKCS1 bytes: [UInt8]) -> (modulus: [UInt8], exponent: [UInt8])? {
        guard let outer = element(bytes, at: 0, limit: bytes.count), outer.tag == 0x30,
            outer.whole.upperBound == bytes.count, let first = children(bytes, of: outer)?.first
        else { return nil }
        return first.tag == 0x30 ? subjectPublicKeyInfo(bytes, outer) : rsaPublicKey(bytes, outer)
    }

    /// SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING (0 unused bits)
    /// holding RSAPublicKey }.
    static func subjectPublicKeyInfo(_ bytes: [UInt8], _ spki: Element) -> (modulus: [UInt8], exponent: [UInt8])? {
        guard let info = children(bytes, of: spki), info.count == 2,
            info[0].tag == 0x30, let algorithm = children(bytes, of: info[0]), let oid = algorithm.first,
            oid.tag == 0x06, Array(bytes[oid.contents]) == rsaEncryption,
            info[1].tag == 0x03, info[1].contents.count > 1, bytes[info[1].contents.lowerBound] == 0,
            let key = element(bytes, at: info[1].contents.lowerBound + 1, limit: info[1].contents.upperBound),
            key.whole.upperBound == info[1].contents.upperBound
        else { return nil }
        return rsaPublicKey(bytes, key)
    }

    /// RSAPublicKey ::= SEQUENCE { INTEGER modulus, INTEGER exponent }.
    static func rsaPublicKey(_ bytes: [UInt8], _ key: Element) -> (modulus: [UInt8], exponent: [UInt8])? {
        guard key.tag == 0x30, let numbers = children(bytes, of: key), numbers.count == 2,
            numbers[0].tag == 0x02, numbers[1].tag == 0x02
        else { return nil }
        func unsigned(_ integer: Element) -> [UInt8]? {
            let value = Array(bytes[integer.contents].drop { $0 == 0 })
            // A negative INTEGER (high bit set without a leading zero) is no key.
            guard !value.isEmpty, bytes[integer.contents].first.map({ $0 & 0x80 == 0 }) == true else { return nil }
            return value
        }
        guard let modulus = unsigned(numbers[0]), let exponent = unsigned(numbers[1]), exponent.count <= 8 else {
            return nil
        }
        return (modulus, exponent)
    }

    /// The bit length of a modulus given without leading zero bytes.
    public static func bits(ofModulus modulus: [UInt8]) -> Int {
        guard let first = modulus.first else { return 0 }
        return (modulus.count - 1) * 8 + (8 - first.leadingZeroBitCount)
    }
}
