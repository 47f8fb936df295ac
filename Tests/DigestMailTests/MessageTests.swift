import DigestCore
import DigestMail
import DigestTestSupport
import Foundation
import Testing

@Suite("MIME messages")
struct MessageTests {
    static let golden = Repository.root.appendingPathComponent("Tests/DigestMailTests/Golden")
    static let fixedDate = Date(timeIntervalSince1970: 1_510_988_400)  // Sat 18 Nov 2017 07:00 UTC

    func sampleMessage(
        editing edit: (inout Edition) -> Void = { _ in }, reader: Mailbox? = nil
    ) throws -> OutgoingMessage {
        var (publication, renderer, edition) = try Repository.sample()
        edit(&edition)
        let rendered = try renderer.render(edition)
        let builder = DigestMessageBuilder(
            publication: publication, rendered: rendered, identity: SequentialMessageIdentity(seed: "golden"))
        let to = reader ?? Mailbox(name: "Test Reader", address: EmailAddress("reader@example.org")!)
        return builder.message(to: to, date: Self.fixedDate)
    }

    @Test func sampleMessageMatchesGoldenFile() throws {
        try Golden.check(Data(try sampleMessage().data), file: "sample.eml", folder: Self.golden)
    }

    @Test func sameInputsGiveTheSameBytes() throws {
        #expect(try sampleMessage().data == sampleMessage().data)
    }

    @Test func messageIsSevenBitCRLFWithShortLines() throws {
        let data = try sampleMessage(editing: { edition in
            edition.subject = "سوريا اليوم 🇸🇾"
            edition.sections[0].items[0].summary =
                ".starts with a dot\nFrom the editor\n" + "https://example.com/" + String(repeating: "a", count: 2_000)
        }).data
        #expect(data.allSatisfy { $0 < 0x80 })
        var lineLength = 0
        for (index, byte) in data.enumerated() {
            if byte == 10 {
                #expect(index > 0 && data[index - 1] == 13, "every LF is part of a CRLF")
                lineLength = 0
            } else if byte != 13 {
                lineLength += 1
                #expect(lineLength <= 78)
            }
        }
    }

    @Test func boundaryDoesNotOccurInTheBodies() throws {
        let message = try sampleMessage(editing: {
            $0.sections[0].items[0].summary = "--=_digest_golden_2 trying to break out"
        })
        let text = String(decoding: message.data, as: UTF8.self)
        #expect(text.components(separatedBy: "--=_digest_golden_2").count == 4)  // two parts and the end
    }

    @Test(arguments: [
        "Title\r\nBcc: victim@example.com", "Title\nBcc: x@y", "Title\u{2028}Bcc: x@y", "Title\u{0}Bcc: x@y",
    ])
    func injectedHeaderInSubjectOrNameAddsNoHeader(evil: String) throws {
        let message = try sampleMessage(
            editing: { $0.subject = evil }, reader: Mailbox(name: evil, address: EmailAddress("reader@example.org")!))
        let text = String(decoding: message.data, as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        let names = head.components(separatedBy: "\r\n").filter { !$0.hasPrefix(" ") }.map {
            $0.prefix(while: { $0 != ":" })
        }
        #expect(names == ["Date", "From", "To", "Reply-To", "Subject", "Message-ID", "MIME-Version", "Content-Type"])
        #expect(!head.contains("\nBcc"))
    }

    @Test func strictParserFindsNoDefectsAndDecodesEverything() throws {
        let folder = try Repository.temporaryFolder("mime")
        let cases: [(String, (inout Edition) -> Void, String)] = [
            ("sample", { _ in }, "Test Reader"),
            (
                "arabic", { $0.subject = "سوريا اليوم: النظام وروسيا يحاولان مجددًا السيطرة على آخر بلدة لداعش" },
                "سكوت لوكاس"
            ),
            ("emoji", { $0.subject = "🎙️ Podcast day 👩‍👩‍👧‍👦 and 中文" }, "Zoë 🇸🇾"),
            (
                "dots",
                {
                    $0.sections[0].items[0].summary =
                        ".\n..\n.leading dot\nFrom here\n" + String(repeating: "x", count: 2_000)
                }, "A. Reader"
            ),
            ("injection", { $0.subject = "Hi\r\nBcc: victim@example.com" }, "Evil\r\nBcc: x@y"),
        ]
        var files: [URL] = []
        var expected: [(subject: String, name: String, text: String, html: String)] = []
        for (name, edit, readerName) in cases {
            var (publication, renderer, edition) = try Repository.sample()
            edit(&edition)
            let rendered = try renderer.render(edition)
            let message = DigestMessageBuilder(
                publication: publication, rendered: rendered, identity: SequentialMessageIdentity()
            )
            .message(to: Mailbox(name: readerName, address: EmailAddress("reader@example.org")!), date: Self.fixedDate)
            let file = folder.appendingPathComponent("\(name).eml")
            try Data(message.data).write(to: file)
            files.append(file)
            expected.append(
                (
                    HeaderEncoding.singleLine(edition.subject), HeaderEncoding.singleLine(readerName), rendered.text(),
                    rendered.html
                ))
        }
        let parsed = try ParsedMessage.parse(files)
        #expect(parsed.count == cases.count)
        for (message, want) in zip(parsed, expected) {
            #expect(message.defects.isEmpty, "\(message.defects)")
            #expect(message.subject == want.subject)
            #expect(message.to.contains("reader@example.org"))
            #expect(message.to.contains(want.name) || want.name.contains("\""))
            #expect(message.partTypes == ["multipart/alternative", "text/plain", "text/html"])
            #expect(message.text == want.text)
            #expect(message.html == want.html)
            #expect(message.nonASCIIBytes == 0)
            #expect(message.bareLineFeeds == 0)
            #expect(message.longestLine <= 78)
            #expect(!message.headerNames.contains("Bcc"))
        }
    }
}
