import Crypto
import Foundation

/// The token in a reader's unsubscribe link: the subscriber's id and an HMAC-SHA256 over it and the list,
/// so the unsubscribe endpoint can trust the id without a database of issued links, and nobody can
/// unsubscribe someone else by editing a URL.
///
/// Form: `base64url(subscriber id) "." base64url(HMAC-SHA256(key, "digest-unsubscribe\n" list "\n" id))`.
public struct UnsubscribeSigner: Sendable {
    // SymmetricKey is not Sendable; the bytes are, and a key is made from them per use.
    let secret: [UInt8]
    public let listID: String

    var key: SymmetricKey { SymmetricKey(data: secret) }

    /// `secret` must hold at least 16 bytes (it comes from DIGEST_UNSUBSCRIBE_KEY or a key file).
    public init?(secret: [UInt8], listID: String) {
        guard secret.count >= 16 else { return nil }
        self.secret = secret
        self.listID = listID
    }

    public func token(for subscriberID: String) -> String {
        let id = Base64URL.encode(Array(subscriberID.utf8))
        return id + "." + Base64URL.encode(Array(mac(subscriberID)))
    }

    /// The subscriber id the token was minted for, or nil when it was not minted with this key and list.
    public func verify(_ token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let idBytes = Base64URL.decode(String(parts[0])),
            let givenMAC = Base64URL.decode(String(parts[1])), givenMAC.count == 32,
            let subscriberID = String(bytes: idBytes, encoding: .utf8)
        else { return nil }
        // HMAC's own comparison is constant-time.
        let message = Data("digest-unsubscribe\n\(listID)\n\(subscriberID)".utf8)
        guard HMAC<SHA256>.isValidAuthenticationCode(givenMAC, authenticating: message, using: key) else { return nil }
        return subscriberID
    }

    func mac(_ subscriberID: String) -> HashedAuthenticationCode<SHA256> {
        HMAC<SHA256>.authenticationCode(for: Data("digest-unsubscribe\n\(listID)\n\(subscriberID)".utf8), using: key)
    }
}

/// Base64 with the URL alphabet and no padding (RFC 4648 §5).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: Base64.encode(bytes, alphabet: Base64.urlAlphabet, padding: false), as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return nil
        }
        var standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while standard.count % 4 != 0 { standard.append("=") }
        return Data(base64Encoded: standard).map { Array($0) }
    }
}
