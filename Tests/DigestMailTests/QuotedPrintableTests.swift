import DigestMail
import Testing

/// Decodes quoted-printable, independently of the encoder, to check round trips.
func decodeQuotedPrintable(_ bytes: [UInt8]) -> String {
    var output: [UInt8] = []
    var index = 0
    func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        default: nil
        }
    }
    while index < bytes.count {
        let byte = bytes[index]
        if byte == 61 {
            if index + 2 < bytes.count, bytes[index + 1] == 13, bytes[index + 2] == 10 {
                index += 3
                continue
            }
            if index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 3
                continue
            }
        }
        if byte == 13, index + 1 < bytes.count, bytes[index + 1] == 10 {
            output.append(10)
            index += 2
            continue
        }
        output.append(byte)
        index += 1
    }
    return String(decoding: output, as: UTF8.self)
}

func lines(_ bytes: [UInt8]) -> [[UInt8]] {
    var result: [[UInt8]] = [[]]
    var index = 0
    while index < bytes.count {
        if bytes[index] == 13, index + 1 < bytes.count, bytes[index + 1] == 10 {
            result.append([])
            index += 2
        } else {
            result[result.count - 1].append(bytes[index])
            index += 1
        }
    }
    return result
}

@Suite("Quoted-printable")
struct QuotedPrintableTests {
    static let samples = [
        "plain ascii line",
        "Arabic سوريا اليوم and emoji 🇸🇾👩‍👩‍👧 mixed",
        ".a line that starts with a dot\n.\n..",
        "From the desk of the editor\nFrom here on",
        "trailing space \ntrailing tab\t\n",
        "equals = sign and =3D literal",
        "https://example.com/" + String(repeating: "x", count: 2_000),
        String(repeating: "ü", count: 500),
        "",
        "\n\n\n",
    ]

    @Test(arguments: samples)
    func roundTripsExactly(text: String) {
        #expect(decodeQuotedPrintable(QuotedPrintable.encode(text)) == text)
    }

    @Test(arguments: samples)
    func encodedLinesAreShortSevenBitAndSafe(text: String) {
        let encoded = QuotedPrintable.encode(text)
        #expect(encoded.allSatisfy { $0 < 0x80 })
        for line in lines(encoded) {
            #expect(line.count <= 76)
            #expect(line.first != UInt8(ascii: "."), "a line must not start with a dot")
            #expect(!line.starts(with: Array("From ".utf8)))
            if let last = line.last { #expect(last != 32 && last != 9, "no trailing whitespace") }
        }
        #expect(!encoded.contains(10) || zip(encoded, encoded.dropFirst()).allSatisfy { $0.1 != 10 || $0.0 == 13 })
    }

    @Test func softBreaksNeverSplitAnEscape() {
        let encoded = QuotedPrintable.encode(String(repeating: "é", count: 40))
        for line in lines(encoded).dropLast() {
            #expect(line.last == UInt8(ascii: "="))
            #expect(line.count <= 76)
        }
    }
}
