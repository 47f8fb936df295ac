@testable import DigestCore
import DigestTestSupport
import Foundation
import Testing

@Suite("Feed dates")
struct FeedDateTests {
    static let reference = Date(timeIntervalSince1970: 1_510_997_400)  // 2017-11-18 09:30:00 UTC

    @Test(arguments: [
        "Sat, 18 Nov 2017 09:30:00 +0000", "Sat, 18 Nov 2017 09:30:00 GMT", "Sat, 18 Nov 2017 09:30:00 UT",
        "Sat, 18 Nov 2017 04:30:00 EST", "Sat, 18 Nov 2017 01:30:00 PST", "Sat, 18 Nov 2017 10:30:00 +0100",
        "Sat, 18 Nov 2017 10:30:00 +01:00", "18 Nov 2017 09:30:00 +0000", "Mon, 18 Nov 2017 09:30:00 +0000",
        "Sat, 18 November 2017 09:30:00 GMT", "Sat, 18 Nov 17 09:30:00 GMT", "Sat,18 Nov 2017 09:30:00 Z",
        "Sat, 18 Nov 2017 09:30:00", "2017-11-18T09:30:00Z", "2017-11-18T10:30:00+01:00", "2017-11-18T09:30Z",
        "2017-11-18 09:30:00", "2017-11-18T09:30:00.000Z", "2017-11-18T10:30:00+0100",
        "  Sat, 18 Nov 2017 09:30:00 +0000  ",
    ])
    func everyFormFeedsUseReadsTheSameInstant(text: String) {
        #expect(FeedDate.parse(text) == Self.reference, "\(text)")
    }

    @Test func withoutSecondsAndDayFirstVariants() {
        #expect(FeedDate.parse("Sat, 18 Nov 2017 09:30 GMT") == Self.reference)
        #expect(FeedDate.parse("Nov 18 2017 09:30:00 GMT") == Self.reference)
        #expect(FeedDate.parse("2017-11-18") == Date(timeIntervalSince1970: 1_510_963_200))
    }

    @Test(arguments: [
        "", "yesterday", "Sat, 31 Feb 2017 09:30:00 GMT", "Sat, 18 Foo 2017 09:30:00 GMT", "2017-13-01T00:00:00Z",
    ])
    func nonsenseIsNil(text: String) {
        #expect(FeedDate.parse(text) == nil)
    }

    @Test func commonLayoutIsReadTheSameByTheFastReaderAndTheGeneralOne() {
        var random = SeededGenerator(seed: 3)
        let weekdays = ["Sat, ", "Mon, ", ""]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let zones = ["+0000", "-0500", "+0530", "+1245", "-1100", "GMT", "UTC", "Z"]
        var read = 0
        for _ in 0..<3_000 {
            let day = Int.random(in: 1...31, using: &random)
            let dayText = Bool.random(using: &random) && day < 10 ? "0\(day)" : "\(day)"
            let seconds =
                Bool.random(using: &random) ? String(format: ":%02d", Int.random(in: 0...60, using: &random)) : ""
            let text = String(
                format: "%@%@ %@ %04d %02d:%02d%@ %@", weekdays.randomElement(using: &random) ?? "", dayText,
                months.randomElement(using: &random) ?? "", Int.random(in: 1900...2100, using: &random),
                Int.random(in: 0...24, using: &random), Int.random(in: 0...59, using: &random), seconds,
                zones.randomElement(using: &random) ?? "")
            let fast = FeedDate.rfc822Common(text)
            #expect(fast == FeedDate.rfc822(text), "\(text)")
            if fast != nil { read += 1 }
        }
        #expect(read > 2_000, "the fast reader must read the common layout")
        #expect(FeedDate.rfc822Common("Sat, 18 Nov 2017 09:30:00 EST") == nil, "zone names go the general way")
        #expect(FeedDate.parse("Sat, 18 Nov 2017 09:30:00 EST") == FeedDate.parse("Sat, 18 Nov 2017 14:30:00 +0000"))
    }
}
