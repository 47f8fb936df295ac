import DigestCore
import DigestMail
import DigestTestSupport
import Foundation
import Testing

/// Builds messages from the sample workspace.
struct SampleMessages {
    static let fixedDate = Date(timeIntervalSince1970: 1_510_988_400)  // Sat 18 Nov 2017 07:00 UTC
    static let fixtures = Repository.root.appendingPathComponent("Tests/DigestMailTests/Fixtures")
    static let unsubscribe = UnsubscribeSigner(
        secret: Array("test-unsubscribe-key-0123456789".utf8), listID: "eaworldview.com")!

    static func key(_ file: String, selector: String) throws -> DKIMKey {
        try DKIMKey(
            selector: selector, domain: "eaworldview.com",
            pem: String(contentsOf: fixtures.appendingPathComponent(file), encoding: .utf8))
    }

    static func signer() throws -> DKIMSigner {
        DKIMSigner(keys: [
            try key("test-rsa-pkcs8.pem", selector: "rsa2017"), try key("test-ed25519.pem", selector: "ed2017"),
        ])
    }

    /// The DNS records for the fixture keys, as verify_dkim.py takes them.
    static func records() throws -> [String] {
        try [key("test-rsa-pkcs8.pem", selector: "rsa2017"), key("test-ed25519.pem", selector: "ed2017")].map {
            "\($0.selector)._domainkey.\($0.domain)=v=DKIM1; k=\($0.algorithm == .rsaSHA256 ? "rsa" : "ed25519"); p=\($0.publicKeyBase64)"
        }
    }

    static func message(
        editing edit: (inout Edition) -> Void = { _ in }, reader: Reader? = nil, personal: Bool = false,
        signed: Bool = false, identity: any MessageIdentity = SequentialMessageIdentity(seed: "golden")
    ) throws -> OutgoingMessage {
        var (publication, renderer, edition) = try Repository.sample()
        edit(&edition)
        let rendered = personal ? try renderer.renderForReaders(edition) : try renderer.render(edition)
        let builder = DigestMessageBuilder(
            publication: publication, rendered: rendered, identity: identity, unsubscribe: personal ? unsubscribe : nil,
            signer: signed ? try signer() : nil)
        return try builder.message(
            to: reader
                ?? Reader(id: "42", mailbox: Mailbox(name: "Test Reader", address: EmailAddress("reader@example.org")!)),
            date: fixedDate)
    }

    static func headerNames(_ message: OutgoingMessage) -> [String] {
        let head = String(decoding: message.data, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
        return head.components(separatedBy: "\r\n").filter { !$0.hasPrefix(" ") }.map {
            String($0.prefix(while: { $0 != ":" }))
        }
    }
}

@Suite("MIME messages")
struct MessageTests {
    static let golden = Repository.root.appendingPathComponent("Tests/DigestMailTests/Golden")

    @Test func genericMessageMatchesGoldenFile() throws {
        try Golden.check(Data(try SampleMessages.message().data), file: "sample.eml", folder: Self.golden)
    }

    @Test func personalSignedMessageMatchesGoldenFile() throws {
        let message = try SampleMessages.message(personal: true, signed: true)
        try Golden.check(Data(message.data), file: "sample-personal-signed.eml", folder: Self.golden)
    }

    @Test func sameInputsGiveTheSameBytes() throws {
        #expect(try SampleMessages.message(signed: true).data == SampleMessages.message(signed: true).data)
    }

    @Test func bulkMailHeadersAreAllThereInOrder() throws {
        let message = try SampleMessages.message(personal: true, signed: true)
        #expect(
            SampleMessages.headerNames(message) == [
                "DKIM-Signature", "DKIM-Signature", "From", "To", "Subject", "Date", "Message-ID", "Reply-To",
                "List-Id",
                "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type",
            ])
        let text = String(decoding: message.data, as: UTF8.self)
        let token = SampleMessages.unsubscribe.token(for: "42")
        #expect(
            text.contains(
                "List-Unsubscribe: <https://eaworldview.com/newsletter/unsubscribe?t=\(token)>,\r\n <mailto:unsubscribe@eaworldview.com?subject=unsubscribe%20\(token)>\r\n"
            ))
        #expect(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        #expect(text.contains("List-Id: EA WorldView <eaworldview.com>\r\n"))
        #expect(text.contains("a=rsa-sha256;") && text.contains("a=ed25519-sha256;"))
        let unfolded = text.replacingOccurrences(of: "\r\n ", with: "")
        #expect(
            unfolded.contains(
                "h=from:to:subject:date:message-id:mime-version:content-type:reply-to:list-id:list-unsubscribe:list-unsubscribe-post:from;"
            ))
    }

    @Test func readersMessagesDifferOnlyInTheirOwnFields() async throws {
        let (publication, renderer, edition) = try Repository.sample()
        let builder = DigestMessageBuilder(
            publication: publication, rendered: try renderer.renderForReaders(edition),
            identity: SequentialMessageIdentity(seed: "p"), unsubscribe: SampleMessages.unsubscribe)
        let readers = [
            Reader(id: "1", mailbox: Mailbox(name: "Ana", address: EmailAddress("ana@example.org")!)),
            Reader(id: "2", mailbox: Mailbox(name: "Bashar", address: EmailAddress("b@example.net")!)),
        ]
        let messages = try readers.map { try builder.message(to: $0, date: SampleMessages.fixedDate) }
        let heads = messages.map {
            String(decoding: $0.data, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0].components(
                separatedBy: "\r\n")
        }
        let differing = zip(heads[0], heads[1]).filter { $0 != $1 }.map(\.0)
        #expect(differing.map { String($0.prefix(10)) } == ["To: Ana <a", "Message-ID", "List-Unsub", " <mailto:u"])
        let folder = try Repository.temporaryFolder("readers")
        let files = try messages.enumerated().map { index, message in
            let file = folder.appendingPathComponent("\(index).eml")
            try Data(message.data).write(to: file)
            return file
        }
        let parsed = try await ParsedMessage.parse(files)
        let tokens = readers.map { SampleMessages.unsubscribe.token(for: $0.id) }
        #expect(parsed[0].text != parsed[1].text)
        #expect(parsed[0].text.replacingOccurrences(of: tokens[0], with: tokens[1]) == parsed[1].text)
        #expect(parsed[0].html.replacingOccurrences(of: tokens[0], with: tokens[1]) == parsed[1].html)
    }

    @Test func readerNameInATemplateIsFilledPerReaderAndEscapedInHTML() async throws {
        var (publication, _, edition) = try Repository.sample()
        let workspace = Repository.sampleWorkspace
        var sources = try workspace.loadTemplates(for: publication).sources.values.map { $0 }
        sources = sources.map { source in
            var source = source
            if source.name == "digest.txt" {
                source.text = source.text.replacingOccurrences(
                    of: "{{dateLine}}\n", with: "{{dateLine}}\nDear {{readerName}},\n")
            }
            if source.name == "digest.html" {
                source.text = source.text.replacingOccurrences(
                    of: "{{#hasNote}}\n", with: "<p>Dear {{readerName}},</p>\n{{#hasNote}}\n")
            }
            return source
        }
        let renderer = EditionRenderer(publication: publication, templates: try TemplateSet(sources: sources))
        edition.note = ""
        let builder = DigestMessageBuilder(
            publication: publication, rendered: try renderer.renderForReaders(edition),
            identity: SequentialMessageIdentity(),
            unsubscribe: SampleMessages.unsubscribe)
        let message = try builder.message(
            to: Reader(id: "7", mailbox: Mailbox(name: "Zoë <Admin> & Co", address: EmailAddress("z@example.org")!)),
            date: SampleMessages.fixedDate)
        let folder = try Repository.temporaryFolder("greeting")
        let file = folder.appendingPathComponent("m.eml")
        try Data(message.data).write(to: file)
        let parsed = try await ParsedMessage.parse([file])[0]
        #expect(parsed.defects.isEmpty)
        #expect(parsed.text.contains("Dear Zoë <Admin> & Co,\n"))
        #expect(parsed.html.contains("<p>Dear Zoë &lt;Admin&gt; &amp; Co,</p>"))
        #expect(parsed.text.contains("?t=\(SampleMessages.unsubscribe.token(for: "7"))\n"))
    }

    @Test func messageIsSevenBitCRLFWithShortLines() throws {
        let data = try SampleMessages.message(
            editing: { edition in
                edition.subject = "سوريا اليوم 🇸🇾"
                edition.sections[0].items[0].summary =
                    ".starts with a dot\nFrom the editor\n" + "https://example.com/"
                    + String(repeating: "a", count: 2_000)
            }, personal: true, signed: true
        ).data
        #expect(data.allSatisfy { $0 < 0x80 })
        for (index, byte) in data.enumerated() where byte == 10 {
            #expect(index > 0 && data[index - 1] == 13, "every LF is part of a CRLF")
        }
        // Lines stay within 78 columns, but for the unbreakable unsubscribe URLs, and always within 998.
        for line in String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n") where line.utf8.count > 78 {
            #expect(line.utf8.count <= 998)
            #expect(line.hasPrefix("List-Unsubscribe: <https://") || line.hasPrefix(" <mailto:"), "\(line)")
        }
    }

    @Test func boundaryDoesNotOccurInTheBodies() throws {
        let message = try SampleMessages.message(editing: {
            $0.sections[0].items[0].summary = "--=_digest_golden_1 trying to break out"
        })
        let text = String(decoding: message.data, as: UTF8.self)
        #expect(text.components(separatedBy: "--=_digest_golden_1").count == 4)  // two parts and the end
    }

    @Test(arguments: [
        "Title\r\nBcc: victim@example.com", "Title\nBcc: x@y", "Title\u{2028}Bcc: x@y", "Title\u{0}Bcc: x@y",
        "T\rBcc: x@y",
    ])
    func injectedHeaderInSubjectOrNameAddsNoHeader(evil: String) throws {
        let message = try SampleMessages.message(
            editing: {
                $0.subject = evil; $0.sections[0].items[0].title = evil
            },
            reader: Reader(id: evil, mailbox: Mailbox(name: evil, address: EmailAddress("reader@example.org")!)),
            personal: true, signed: true)
        #expect(
            SampleMessages.headerNames(message) == [
                "DKIM-Signature", "DKIM-Signature", "From", "To", "Subject", "Date", "Message-ID", "Reply-To",
                "List-Id",
                "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type",
            ])
    }

    @Test func unsubscribeTokensVerifyAndForgeriesDoNot() throws {
        let signer = SampleMessages.unsubscribe
        let token = signer.token(for: "subscriber-42")
        #expect(signer.verify(token) == "subscriber-42")
        let other = UnsubscribeSigner(secret: Array("another-key-0123456789abcdef".utf8), listID: "eaworldview.com")!
        #expect(other.verify(token) == nil)
        let otherList = UnsubscribeSigner(
            secret: Array("test-unsubscribe-key-0123456789".utf8), listID: "other.example")!
        #expect(otherList.verify(token) == nil)
        let parts = token.split(separator: ".")
        let forged = Base64URL.encode(Array("subscriber-43".utf8)) + "." + parts[1]
        #expect(signer.verify(forged) == nil)
        #expect(signer.verify("") == nil)
        #expect(signer.verify("abc") == nil)
        #expect(signer.verify(token + "x") == nil)
        #expect(UnsubscribeSigner(secret: Array("short".utf8), listID: "x") == nil)
    }
}
