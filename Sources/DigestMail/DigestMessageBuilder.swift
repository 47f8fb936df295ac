import Crypto
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

    /// Appends the header lines (`Name: value` CRLF each), the blank line and the body: the end of every
    /// message digest writes, after any DKIM signatures.
    static func append(headers: [(String, String)], body: [UInt8], to data: inout [UInt8]) {
        for (name, value) in headers {
            data += name.utf8
            data += [0x3A, 0x20]
            data += value.utf8
            data += [0x0D, 0x0A]
        }
        data += [0x0D, 0x0A]
        data += body
    }
}

/// Someone a message is for: their subscriber id (what the unsubscribe token names) and mailbox.
public struct Reader: Sendable {
    public var id: String
    public var mailbox: Mailbox

    public init(id: String, mailbox: Mailbox) {
        self.id = id
        self.mailbox = mailbox
    }

    /// A reader known only by address (a test copy): the address is the id.
    public init(address: EmailAddress, name: String = "") {
        self.init(id: address.description, mailbox: Mailbox(name: name, address: address))
    }
}

/// Builds the digest's messages: `multipart/alternative` with the text part first, both parts UTF-8
/// quoted-printable, bulk-mail headers (List-Id, List-Unsubscribe with one-click POST), and DKIM
/// signatures when keys are given.
///
/// The edition is rendered once; the bodies are encoded once except the few lines that carry a
/// reader's name or unsubscribe link, so a reader's message costs little more than copying bytes.
public struct DigestMessageBuilder: Sendable {
    public let publication: Publication
    public let subject: String
    let text: PersonalizedPart
    let html: PersonalizedPart
    let identity: any MessageIdentity
    /// One boundary for the edition: it starts with "=_", which quoted-printable text cannot contain.
    let boundary: String
    let unsubscribe: UnsubscribeSigner?
    let signer: DKIMSigner?
    /// What is the same in every reader's message, encoded once.
    let fixed: FixedParts

    struct FixedParts: Sendable {
        var from: String
        var subject: String
        var listID: String
        var replyTo: String?
        var feedbackID: String?
        var contentType: String
        var textPartStart: Lines
        var htmlPartStart: Lines
        var end: Lines
    }

    /// Whole lines every message carries, with their relaxed canonical form for DKIM's body hash.
    struct Lines: Sendable {
        let bytes: [UInt8]
        let canonical: [UInt8]

        init(_ text: String) {
            bytes = Array(text.utf8)
            canonical = DKIMCanonical.relaxedLines(bytes)
        }
    }

    /// `rendered` comes from `EditionRenderer.renderForReaders` when messages are personal (with an
    /// unsubscribe signer), or from `render` for one generic copy (the archive's `.eml`).
    public init(
        publication: Publication, rendered: RenderedEdition, identity: any MessageIdentity,
        unsubscribe: UnsubscribeSigner? = nil, signer: DKIMSigner? = nil
    ) {
        self.publication = publication
        self.subject = rendered.subject
        self.text = PersonalizedPart(rendered.text(width: 72))
        self.html = PersonalizedPart(rendered.html)
        self.identity = identity
        self.boundary = identity.boundary()
        self.unsubscribe = unsubscribe
        self.signer = signer
        let boundary = self.boundary
        fixed = FixedParts(
            from: HeaderEncoding.mailbox(
                name: publication.sender.name, address: publication.sender.address.description, nameLength: 6),
            subject: HeaderEncoding.unstructured(rendered.subject, nameLength: 9),
            listID: HeaderEncoding.mailbox(name: publication.name, address: publication.listID, nameLength: 9),
            replyTo: publication.replyTo?.description,
            feedbackID: publication.feedbackID.map { HeaderEncoding.unstructured($0, nameLength: 13) },
            contentType: "multipart/alternative;\r\n boundary=\"\(boundary)\"",
            textPartStart: Lines(
                "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            ),
            // The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1), so the part's own last
            // line break needs one more.
            htmlPartStart: Lines(
                "\r\n--\(boundary)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            ),
            end: Lines("\r\n--\(boundary)--\r\n"))
    }

    /// The message for `reader`, dated `date`.
    public func message(to reader: Reader, date: Date) throws -> OutgoingMessage {
        let messageID = identity.messageID(domain: publication.domain)
        let token = unsubscribe?.token(for: reader.id) ?? ""
        let name = HeaderEncoding.singleLine(reader.mailbox.name)

        var body: [UInt8] = []
        body.reserveCapacity(64 * 1024)
        // DKIM's body hash is taken as the body is written: the fixed lines' canonical forms were made once.
        var hasher: SHA256? = signer == nil ? nil : SHA256()
        func append(_ lines: Lines) {
            body += lines.bytes
            hasher?.update(data: lines.canonical)
        }
        append(fixed.textPartStart)
        text.write(token: token, name: name, into: &body, hashing: &hasher)
        append(fixed.htmlPartStart)
        html.write(token: token, name: HTMLEscape.text(name), into: &body, hashing: &hasher)
        append(fixed.end)

        let headers = headers(for: reader, token: token, messageID: messageID, date: date)
        var data: [UInt8] = []
        data.reserveCapacity(body.count + 2048)
        if let signer, let digest = hasher?.finalize() {
            data += try signer.signatures(
                headers: headers, bodyHash: Array(digest), timestamp: Int(date.timeIntervalSince1970))
        }
        OutgoingMessage.append(headers: headers, body: body, to: &data)
        return OutgoingMessage(
            envelopeFrom: publication.sender.address, recipient: reader.mailbox.address, messageID: messageID,
            data: data)
    }

    func headers(for reader: Reader, token: String, messageID: String, date: Date) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(14)
        headers += [
            ("From", fixed.from),
            (
                "To",
                HeaderEncoding.mailbox(
                    name: reader.mailbox.name, address: reader.mailbox.address.description, nameLength: 4)
            ),
            ("Subject", fixed.subject),
            ("Date", MailDate.format(date, timeZone: publication.timeZone)),
            ("Message-ID", "<\(messageID)>"),
        ]
        if let replyTo = fixed.replyTo {
            headers.append(("Reply-To", replyTo))
        }
        headers.append(("List-Id", fixed.listID))
        let mailto =
            "<mailto:\(publication.unsubscribeMailbox)?subject=unsubscribe\(token.isEmpty ? "" : "%20" + token)>"
        if unsubscribe != nil {
            let url = ReaderPlaceholder.unsubscribeURL(base: publication.unsubscribeURL, token: token)
            headers.append(("List-Unsubscribe", HeaderEncoding.fold(words: ["<\(url)>,", mailto], firstLineUsed: 18)))
            // RFC 8058: the URL identifies the reader, so a POST to it unsubscribes them in one click.
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        } else {
            headers.append(
                (
                    "List-Unsubscribe",
                    HeaderEncoding.fold(words: ["<\(publication.unsubscribeURL)>,", mailto], firstLineUsed: 18)
                ))
        }
        if let feedbackID = fixed.feedbackID {
            headers.append(("Feedback-ID", feedbackID))
        }
        headers += [
            ("MIME-Version", "1.0"),
            ("Content-Type", fixed.contentType),
        ]
        return headers
    }
}
