import Crypto
import Foundation

/// Signs the `/l/DATE/N/SIG` links of counted clicks: SIG is an HMAC-SHA256 over the edition, the story's
/// number and its address, cut to 12 bytes, so a link can neither be edited to count another story nor
/// pointed anywhere else (the server redirects only to the address stored with the edition). The key is
/// the unsubscribe key, kept apart by its own prefix.
public struct ClickSigner: Sendable {
    let secret: [UInt8]

    public init(_ unsubscribe: UnsubscribeSigner) {
        secret = unsubscribe.secret
    }

    /// `base/l/DATE/N/SIG`.
    public func link(base: String, date: String, story: Int, url: String) -> String {
        "\(base)/l/\(date)/\(story)/\(signature(date: date, story: story, url: url))"
    }

    public func signature(date: String, story: Int, url: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("digest-click\n\(date)\n\(story)\n\(url)".utf8), using: SymmetricKey(data: secret))
        return Base64URL.encode(Array(Array(mac).prefix(12)))
    }

    public func verify(_ signature: String, date: String, story: Int, url: String) -> Bool {
        let expected = Array(self.signature(date: date, story: story, url: url).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        // Compared in constant time.
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
