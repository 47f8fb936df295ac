import DigestCore
import Foundation

/// A message ready for the wire: the envelope and the bytes of the RFC 5322 message (CRLF line ends,
/// 7-bit clean, no line over 998 octets).
public struct OutgoingMessage: Sendable {
    /// The envelope sender (MAIL FROM), where bounces go.
    public var envelopeFrom: EmailAddress
    /// The one envelope recipient (RCPT TO): one reader per transaction keeps every reply.
    public var recipient: EmailAddress
    public var messageID: String
    public var data: [UInt8]

    public init(envelopeFrom: EmailAddress, recipient: EmailAddress, messageID: String, data: [UInt8]) {
        self.envelopeFrom = envelopeFrom
        self.recipient = recipient
        self.messageID = messageID
        self.data = data
    }
}

/// Builds the digest's MIME messages from one rendered edition: `multipart/alternative` with the text
/// part first, both parts UTF-8 quoted-printable. The bodies are encoded once; each reader's message
/// differs only in its headers.
public struct DigestMessageBuilder: Sendable {
    public let publication: Publication
    public let subject: String
    let encodedText: [UInt8]
    let encodedHTML: [UInt8]
    let identity: any MessageIdentity

    public init(publication: Publication, rendered: RenderedEdition, identity: any MessageIdentity) {
        self.publication = publication
        self.subject = rendered.subject
        self.encodedText = QuotedPrintable.encode(rendered.text(width: 72))
        self.encodedHTML = QuotedPrintable.encode(rendered.html)
        self.identity = identity
    }

    /// The message for `reader`, dated `date`.
    public func message(to reader: Mailbox, date: Date) -> OutgoingMessage {
        let messageID = identity.messageID(domain: publication.domain)
        let boundary = identity.boundary()
        var headers: [(String, String)] = [
            ("Date", MailDate.format(date, timeZone: publication.timeZone)),
            (
                "From",
                HeaderEncoding.mailbox(
                    name: publication.sender.name, address: publication.sender.address.description, nameLength: 6)
            ),
            ("To", HeaderEncoding.mailbox(name: reader.name, address: reader.address.description, nameLength: 4)),
        ]
        if let replyTo = publication.replyTo {
            headers.append(("Reply-To", replyTo.description))
        }
        headers += [
            ("Subject", HeaderEncoding.unstructured(subject, nameLength: 9)),
            ("Message-ID", "<\(messageID)>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "multipart/alternative;\r\n boundary=\"\(boundary)\""),
        ]
        var data: [UInt8] = []
        data.reserveCapacity(encodedText.count + encodedHTML.count + 1024)
        for (name, value) in headers {
            data += Array("\(name): \(value)\r\n".utf8)
        }
        data += Array("\r\n".utf8)
        for (type, body) in [("text/plain", encodedText), ("text/html", encodedHTML)] {
            data += Array(
                "--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                    .utf8)
            data += body
            // The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1), so the body's own
            // last line break needs one more.
            data += [0x0D, 0x0A]
        }
        data += Array("--\(boundary)--\r\n".utf8)
        return OutgoingMessage(
            envelopeFrom: publication.sender.address, recipient: reader.address, messageID: messageID, data: data)
    }
}
