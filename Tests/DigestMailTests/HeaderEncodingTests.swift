import DigestMail
import Foundation
import DigestTestSupport
import Testing

/// Decodes RFC 2047 B-encoded words the way a mail reader does (whitespace between words dropped).
func decodeEncodedWords(_ value: String) -> String {
    let unfolded = value.replacingOccurrences(of: "\r\n ", with: " ")
    var bytes: [UInt8] = []
    var plain = ""
    for word in unfolded.split(separator: " ") {
        if word.hasPrefix("=?utf-8?b?"), word.hasSuffix("?="),
            let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
        {
            bytes += data
        } else {
            plain += (plain.isEmpty ? "" : " ") + word
        }
    }
    return bytes.isEmpty ? plain : String(decoding: bytes, as: UTF8.self) + (plain.isEmpty ? "" : " " + plain)
}

@Suite("Header encoding")
struct HeaderEncodingTests {
    @Test func asciiSubjectStaysReadableAndFolds() {
        let subject = "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town, and much more besides today"
        let value = HeaderEncoding.unstructured(subject, nameLength: 9)
        #expect(!value.contains("=?"))
        let lines = ("Subject: " + value).components(separatedBy: "\r\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        #expect(value.replacingOccurrences(of: "\r\n ", with: " ") == subject)
    }

    @Test(arguments: [
        "سوريا اليوم: النظام وروسيا يحاولان مجددًا السيطرة على آخر بلدة لداعش في سوريا",
        "שלום עולם — עדכון יומי",
        "中文标题：今日新闻摘要与分析，包含很多很多很多的汉字",
        "Emoji 🇸🇾 👩‍👩‍👧‍👦 🎙️ in a subject",
        String(repeating: "👩‍👩‍👧‍👦", count: 10),
    ])
    func nonASCIISubjectsBecomeShortWholeCharacterEncodedWords(subject: String) {
        let value = HeaderEncoding.unstructured(subject, nameLength: 9)
        #expect(value.utf8.allSatisfy { $0 < 0x80 })
        for (index, line) in ("Subject: " + value).components(separatedBy: "\r\n").enumerated() {
            #expect(line.utf8.count <= 78)
            for word in line.split(separator: " ") where word.hasPrefix("=?") {
                #expect(word.count <= 75)
                // Every word decodes to valid UTF-8 on its own: no split character.
                let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
                #expect(data.flatMap { String(data: $0, encoding: .utf8) } != nil, "line \(index): \(word)")
            }
        }
        #expect(decodeEncodedWords(value) == subject)
    }

    @Test(arguments: [
        "Title\r\nBcc: victim@example.com", "Title\nBcc: x@y", "Title\rBcc: x@y", "Title\u{0}Bcc: x@y",
        "Title\u{2028}Bcc: x@y", "Title\u{85}Bcc: x@y",
    ])
    func lineBreaksInContentCannotStartAHeader(title: String) {
        let value = HeaderEncoding.unstructured(title, nameLength: 9)
        let header = "Subject: " + value
        for line in header.components(separatedBy: "\r\n").dropFirst() {
            #expect(line.first == " ", "a continuation line must start with a space")
        }
        #expect(!header.unicodeScalars.contains { $0.value < 0x20 && $0 != "\r" && $0 != "\n" })
        #expect(!header.replacingOccurrences(of: "\r\n ", with: " ").contains("\n"))
    }

    @Test func displayNamesAreQuotedOrEncoded() {
        #expect(
            HeaderEncoding.mailbox(name: "EA WorldView", address: "a@example.com", nameLength: 6)
                == "EA WorldView <a@example.com>")
        #expect(
            HeaderEncoding.mailbox(name: "Lucas, Scott", address: "a@example.com", nameLength: 6)
                == "\"Lucas, Scott\" <a@example.com>")
        #expect(
            HeaderEncoding.mailbox(name: "Say \"hi\"", address: "a@example.com", nameLength: 6)
                == "\"Say \\\"hi\\\"\" <a@example.com>")
        let arabic = HeaderEncoding.mailbox(name: "سكوت لوكاس", address: "a@example.com", nameLength: 4)
        #expect(arabic.hasPrefix("=?utf-8?b?"))
        #expect(arabic.hasSuffix(" <a@example.com>"))
        #expect(HeaderEncoding.mailbox(name: "", address: "a@example.com", nameLength: 4) == "a@example.com")
    }

    @Test func textThatLooksEncodedIsEncoded() {
        #expect(HeaderEncoding.unstructured("=?utf-8?b?Zm9v?= trick", nameLength: 9).hasPrefix("=?utf-8?b?"))
    }

    @Test func datesAreEnglishGregorianWhateverTheLocale() throws {
        let date = Date(timeIntervalSince1970: 1_510_997_400)  // 2017-11-18 09:30:00 UTC
        #expect(MailDate.format(date, timeZone: .gmt) == "Sat, 18 Nov 2017 09:30:00 +0000")
        let beirut = try #require(TimeZone(identifier: "Asia/Beirut"))
        #expect(MailDate.format(date, timeZone: beirut) == "Sat, 18 Nov 2017 11:30:00 +0200")
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        #expect(MailDate.format(date, timeZone: newYork) == "Sat, 18 Nov 2017 04:30:00 -0500")
    }

    @Test func datesMatchTheCalendarsAcrossCenturiesZonesAndTheirChanges() throws {
        var random = SeededGenerator(seed: 11)
        let zones = try [
            "UTC", "Asia/Beirut", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns",
        ]
        .map { try #require(TimeZone(identifier: $0)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss xx"
        for _ in 0..<1_000 {
            // 1901 to 2100, whole seconds.
            let date = Date(
                timeIntervalSince1970: Double(Int64.random(in: -2_147_483_648...4_102_444_800, using: &random)))
            for zone in zones {
                formatter.timeZone = zone
                #expect(MailDate.format(date, timeZone: zone) == formatter.string(from: date))
            }
        }
    }

    @Test func base64MatchesFoundation() {
        for length in 0..<50 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString())
        }
    }
}
