import Crypto
import DigestCore
@testable import DigestMail
import DigestTestSupport
import Foundation
import Testing

@Suite("DKIM")
struct DKIMTests {
    @Test(arguments: [
        ("test-rsa-pkcs8.pem", DKIMKey.Algorithm.rsaSHA256), ("test-rsa-pkcs1.pem", .rsaSHA256),
        ("test-ed25519.pem", .ed25519SHA256),
    ])
    func keysLoadFromPEMInEveryForm(file: String, algorithm: DKIMKey.Algorithm) throws {
        let key = try SampleMessages.key(file, selector: "s")
        #expect(key.algorithm == algorithm)
    }

    @Test func pkcs1AndPKCS8FormsOfOneKeyPublishTheSameRecord() throws {
        #expect(
            try SampleMessages.key("test-rsa-pkcs1.pem", selector: "s").dnsRecord
                == SampleMessages.key("test-rsa-pkcs8.pem", selector: "s").dnsRecord)
    }

    @Test func shortOrGarbledKeysAreRefusedWithAReason() throws {
        #expect(throws: DKIMKey.KeyError.self) { try DKIMKey(selector: "s", domain: "example.com", pem: "not a key") }
        #expect(throws: DKIMKey.KeyError.self) {
            try DKIMKey(
                selector: "s", domain: "example.com",
                pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        }
    }

    @Test func generatedKeysRoundTripThroughPEM() throws {
        for algorithm in [DKIMKey.Algorithm.rsaSHA256, .ed25519SHA256] {
            let key = try DKIMKey.generate(algorithm, selector: "new", domain: "example.com")
            let again = try DKIMKey(selector: "new", domain: "example.com", pem: key.privateKeyPEM)
            #expect(again.publicKeyBase64 == key.publicKeyBase64)
            #expect(
                key.dnsRecord.hasPrefix(
                    "new._domainkey.example.com. IN TXT ( \"v=DKIM1; k=\(algorithm == .rsaSHA256 ? "rsa" : "ed25519"); p="
                ))
        }
    }

    /// Every message of a random corpus, signed with rsa-sha256 and ed25519-sha256, verified by dkimpy;
    /// the same messages parsed by Python's email package without defects, their parts and headers
    /// decoded back to what was rendered.
    @Test func randomCorpusParsesCleanlyAndEverySignatureVerifies() async throws {
        let folder = try Repository.temporaryFolder("corpus")
        let publication = try Repository.sampleWorkspace.loadPublication()
        let templates = try Repository.sampleWorkspace.loadTemplates(for: publication)
        let renderer = EditionRenderer(publication: publication, templates: templates)
        let signer = try SampleMessages.signer()
        var files: [URL] = []
        var expected: [(subject: String, name: String, text: String, html: String)] = []
        var random = SeededGenerator(seed: 2017)
        for index in 0..<200 {
            let edition = RandomEdition.make(seed: UInt64(index), huge: index % 50 == 7)
            let rendered = try renderer.renderForReaders(edition)
            let name = RandomEdition.names.randomElement(using: &random) ?? ""
            let reader = Reader(
                id: "reader-\(index)",
                mailbox: Mailbox(name: name, address: EmailAddress("reader\(index)@example.org")!))
            let builder = DigestMessageBuilder(
                publication: publication, rendered: rendered, identity: SequentialMessageIdentity(seed: "c\(index)"),
                unsubscribe: SampleMessages.unsubscribe, signer: signer)
            let message = try builder.message(to: reader, date: SampleMessages.fixedDate)
            let file = folder.appendingPathComponent(String(format: "%03d.eml", index))
            try Data(message.data).write(to: file)
            files.append(file)
            let token = SampleMessages.unsubscribe.token(for: reader.id)
            func fill(_ text: String, escape: (String) -> String) -> String {
                text.replacingOccurrences(of: ReaderPlaceholder.token, with: token)
                    .replacingOccurrences(of: ReaderPlaceholder.name, with: escape(HeaderEncoding.singleLine(name)))
            }
            expected.append(
                (
                    TextMarks.singleLine(edition.subject), HeaderEncoding.singleLine(name),
                    fill(rendered.text(), escape: { $0 }),
                    fill(rendered.html, escape: HTMLEscape.text)
                ))
        }
        let parsed = try await ParsedMessage.parse(files)
        #expect(parsed.count == 200)
        for (index, (message, want)) in zip(parsed, expected).enumerated() {
            #expect(message.defects.isEmpty, "message \(index): \(message.defects)")
            #expect(message.subject == want.subject, "message \(index)")
            #expect(message.to.hasSuffix("reader\(index)@example.org>") || message.to == "reader\(index)@example.org")
            #expect(message.toName == want.name, "message \(index): \(message.to)")
            #expect(message.from == "EA WorldView Digest <digest@eaworldview.com>")
            #expect(message.text == want.text, "message \(index)")
            #expect(message.html == want.html, "message \(index)")
            #expect(
                message.nonASCIIBytes == 0 && message.bareLineFeeds == 0 && message.longestLine <= 998,
                "message \(index)")
            #expect(message.headerNames.filter { $0 == "Bcc" || $0 == "From" }.count == 1, "message \(index)")
        }
        let verified = try await DKIMVerification.verify(files, records: SampleMessages.records())
        #expect(verified.count == 200)
        for (index, signatures) in verified.enumerated() {
            #expect(signatures == [true, true], "message \(index): rsa-sha256 and ed25519-sha256 must both verify")
        }
    }

    @Test func alteredMessagesFailVerification() async throws {
        let message = try SampleMessages.message(personal: true, signed: true)
        let folder = try Repository.temporaryFolder("tamper")
        let original = String(decoding: message.data, as: UTF8.self)
        let variants = [
            ("intact", original),
            ("body", original.replacingOccurrences(of: "Pro-Assad forces", with: "Pro-Assad farces")),
            ("subject", original.replacingOccurrences(of: "Subject: Syria Daily", with: "Subject: Syria Weekly")),
            (
                "second-from",
                original.replacingOccurrences(of: "\r\nFrom: ", with: "\r\nFrom: Mallory <m@evil.example>\r\nFrom: ")
            ),
            (
                "unsubscribe",
                original.replacingOccurrences(
                    of: "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                    with: "List-Unsubscribe-Post: List-Unsubscribe=Two-Click")
            ),
        ]
        var files: [URL] = []
        for (name, text) in variants {
            let file = folder.appendingPathComponent("\(name).eml")
            try Data(text.utf8).write(to: file)
            files.append(file)
        }
        let verified = try await DKIMVerification.verify(files, records: SampleMessages.records())
        #expect(verified[0] == [true, true])
        for (index, signatures) in verified.enumerated().dropFirst() {
            #expect(signatures == [false, false], "\(variants[index].0) must break both signatures")
        }
    }

    @Test func relaxedCanonicalisationFollowsRFC6376Example() throws {
        // RFC 6376 §3.4.5: "A: X\r\nB : Y\t\r\n\tZ  \r\n" → "a:X\r\nb:Y Z\r\n".
        let headers = DKIMCanonical.relaxedHeaders(["a", "b"], from: [("A", " X"), ("B ", " Y\t\r\n\tZ  ")])
        #expect(String(decoding: headers, as: UTF8.self) == "a:X\r\nb:Y Z\r\n")
        let body = DKIMCanonical.relaxedBody(Array(" C \r\nD \t E\r\n\r\n\r\n".utf8))
        #expect(String(decoding: body, as: UTF8.self) == " C\r\nD E\r\n")
        #expect(DKIMCanonical.relaxedBody([]) == [])
    }

    @Test func bodiesTakenAsTheyAreAreExactlyWhatRelaxedCanonicalisationGives() {
        var random = SeededGenerator(seed: 7)
        let alphabet = Array("ab= \t\r\n".utf8)
        var takenAsTheyAre = 0
        for _ in 0..<20_000 {
            let body = (0..<Int.random(in: 0...12, using: &random)).map { _ in
                alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
            }
            let lineByLine = DKIMCanonical.relaxedBodyByLine(body)
            #expect(DKIMCanonical.relaxedBody(body) == lineByLine, "\(body)")
            if DKIMCanonical.isRelaxedAlready(body) {
                takenAsTheyAre += 1
                #expect(lineByLine == body, "\(body) was taken as it is but canonicalises differently")
            }
        }
        #expect(takenAsTheyAre > 100, "the fast path must be exercised")
    }

    @Test func bodyHashOfTheBuilderIsTheHashOfTheCanonicalBodyWhateverTheReadersName() throws {
        let (publication, renderer, edition) = try Repository.sample()
        let key = try DKIMKey.generate(.ed25519SHA256, selector: "s", domain: publication.domain)
        let builder = DigestMessageBuilder(
            publication: publication, rendered: try renderer.renderForReaders(edition),
            identity: SequentialMessageIdentity(),
            unsubscribe: UnsubscribeSigner(secret: Array("k".utf8), listID: publication.listID),
            signer: DKIMSigner(keys: [key]))
        for name in ["", "Ana", "A  B\t C ", "  ", "Ünïcødé  名前  "] {
            let message = try builder.message(
                to: Reader(address: EmailAddress("r@example.org")!, name: name), date: Date())
            let text = String(decoding: message.data, as: UTF8.self)
            let split = try #require(text.range(of: "\r\n\r\n"))
            let body = Array(text[split.upperBound...].utf8)
            let expected = Base64.encode(Array(SHA256.hash(data: DKIMCanonical.relaxedBodyByLine(body))))
            let header = text[..<split.lowerBound].replacingOccurrences(of: "\r\n ", with: "")
            #expect(header.contains("bh=\(expected);"), "name '\(name)'")
        }
    }
}
