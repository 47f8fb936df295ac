import Crypto
import DigestCore
import Foundation

/// The token in a sign-up's confirmation link: the address, a nonce the store keeps for the pending
/// sign-up (so a token works once: confirming deletes it) and the time it was issued (so it expires),
/// under an HMAC-SHA256 with the list's name, separated from unsubscribe tokens by its own label.
///
/// Form: `base64url(address "\n" nonce "\n" issued) "." base64url(HMAC-SHA256(key, "digest-signup\n" list "\n" payload))`.
public struct SignupSigner: Sendable {
    let secret: [UInt8]
    public let listID: String

    var key: SymmetricKey { SymmetricKey(data: secret) }

    /// What a valid token says.
    public struct Claim: Equatable, Sendable {
        public var address: EmailAddress
        public var nonce: String
        public var issued: Date
    }

    public init?(secret: [UInt8], listID: String) {
        guard secret.count >= 16 else { return nil }
        self.secret = secret
        self.listID = listID
    }

    public func token(address: EmailAddress, nonce: String, issued: Date) -> String {
        let payload = "\(address)\n\(nonce)\n\(Int(issued.timeIntervalSince1970))"
        return Base64URL.encode(Array(payload.utf8)) + "." + Base64URL.encode(Array(mac(payload)))
    }

    /// The claim of a token minted with this key and list, or nil (forged, edited or foreign). Expiry is
    /// the caller's to check against its clock.
    public func verify(_ token: String) -> Claim? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count < 1_200, let payloadBytes = Base64URL.decode(String(parts[0])),
            let givenMAC = Base64URL.decode(String(parts[1])), givenMAC.count == 32,
            let payload = String(bytes: payloadBytes, encoding: .utf8)
        else { return nil }
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                givenMAC, authenticating: Data(label(payload).utf8), using: key)
        else { return nil }
        let fields = payload.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3, let address = EmailAddress(fields[0]), let seconds = Int(fields[2]) else { return nil }
        return Claim(address: address, nonce: fields[1], issued: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    func label(_ payload: String) -> String { "digest-signup\n\(listID)\n\(payload)" }

    func mac(_ payload: String) -> HashedAuthenticationCode<SHA256> {
        HMAC<SHA256>.authenticationCode(for: Data(label(payload).utf8), using: key)
    }
}

/// A short plain-text message from the publication to one reader (the sign-up confirmation, the
/// welcome): the same sender, Message-ID domain and DKIM keys as the editions, quoted-printable so it
/// is 7-bit clean.
public struct NoticeMessage: Sendable {
    public let publication: Publication
    public let identity: any MessageIdentity
    public let signer: DKIMSigner?

    public init(publication: Publication, identity: any MessageIdentity = RandomMessageIdentity(), signer: DKIMSigner?)
    {
        self.publication = publication
        self.identity = identity
        self.signer = signer
    }

    public func message(to reader: Mailbox, subject: String, text: String, date: Date) throws -> OutgoingMessage {
        let messageID = identity.messageID(domain: publication.domain)
        var headers: [(name: String, value: String)] = [
            (
                "From",
                HeaderEncoding.mailbox(
                    name: publication.sender.name, address: publication.sender.address.description, nameLength: 6)
            ),
            ("To", HeaderEncoding.mailbox(name: reader.name, address: reader.address.description, nameLength: 4)),
            ("Subject", HeaderEncoding.unstructured(subject, nameLength: 9)),
            ("Date", MailDate.format(date, timeZone: publication.timeZone)),
            ("Message-ID", "<\(messageID)>"),
        ]
        if let replyTo = publication.replyTo { headers.append(("Reply-To", replyTo.description)) }
        headers += [
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ]
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        var body = QuotedPrintable.encode(normalized)
        if !body.suffix(2).elementsEqual([0x0D, 0x0A]) { body += [0x0D, 0x0A] }
        var data: [UInt8] = []
        if let signer {
            data += try signer.signatures(headers: headers, body: body, timestamp: Int(date.timeIntervalSince1970))
        }
        for (name, value) in headers {
            data += name.utf8
            data += [0x3A, 0x20]
            data += value.utf8
            data += [0x0D, 0x0A]
        }
        data += [0x0D, 0x0A]
        data += body
        return OutgoingMessage(
            envelopeFrom: publication.sender.address, recipient: reader.address, messageID: messageID, data: data)
    }
}
