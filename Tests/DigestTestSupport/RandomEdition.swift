import DigestCore
import Foundation

/// A seeded generator (SplitMix64), so a failing random case can be reproduced from its seed.
public struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random editions with the text that breaks mail software: right-to-left scripts, CJK, emoji
/// sequences, huge URLs, lines of dots, "From " lines, very long bodies and empty sections.
public enum RandomEdition {
    public static let titles = [
        "سوريا اليوم: النظام وروسيا يحاولان مجددًا السيطرة على آخر بلدة لداعش",
        "עדכון יומי: הממשלה והאופוזיציה — מה הלאה?",
        "今日新闻：中东局势与大国博弈的最新进展分析",
        "Podcast 🎙️ Lebanon 🇱🇧 between Riyadh and Tehran 👩‍👩‍👧‍👦",
        "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town",
        "Zoë's \"quoted\" title, with commas; and <angle> brackets",
        "=?utf-8?b?bm90IGFuIGVuY29kZWQgd29yZA==?= but looks like one",
        "Très long titre " + String(repeating: "très ", count: 30),
        "Title\r\nBcc: victim@example.com",
        "Line\u{2028}separator and NUL\u{0} inside",
    ]

    public static let names = [
        "سكوت لوكاس", "דנה כהן", "王小明", "Zoë Ångström", "Ana", "O'Brien, Pat", "Reader 😀", "", "Evil\r\nBcc: x@y",
        "\"Quoted\" Name",
    ]

    public static func summary(_ random: inout SeededGenerator) -> String {
        switch Int.random(in: 0..<8, using: &random) {
        case 0: return ".\n..\n.leading dot line\nFrom the editor's desk\nFrom here on"
        case 1: return "https://example.com/" + String(repeating: "a", count: 2_000)
        case 2:
            return String(
                repeating: "Ünïcödé and 中文 mixed with ASCII words. ", count: Int.random(in: 1...40, using: &random))
        case 3: return "Trailing spaces   \ttabs\t and = equals =3D and ?= ends"
        case 4: return ""
        default: return titles.randomElement(using: &random) ?? ""
        }
    }

    /// A random edition; `huge` adds a summary of about 1 MB.
    public static func make(seed: UInt64, huge: Bool = false) -> Edition {
        var random = SeededGenerator(seed: seed)
        var sections: [Section] = []
        for sectionIndex in 0..<Int.random(in: 1...4, using: &random) {
            var items: [Item] = []
            for itemIndex in 0..<Int.random(in: 0...4, using: &random) {
                let title = titles.randomElement(using: &random) ?? "Title"
                let longURL = Int.random(in: 0..<10, using: &random) == 0
                let url =
                    "https://example.com/\(sectionIndex)/\(itemIndex)"
                    + (longURL ? "/" + String(repeating: "x", count: 2_000) : "")
                let content: Item.Content
                switch Int.random(in: 0..<3, using: &random) {
                case 0: content = .article(Article(author: names.randomElement(using: &random) ?? ""))
                case 1:
                    content = .podcast(
                        PodcastEpisode(
                            show: titles.randomElement(using: &random) ?? "Show",
                            duration: MediaDuration(seconds: Int.random(in: 1...7_200, using: &random))))
                default: content = .video(Video(duration: MediaDuration(seconds: 95)))
                }
                items.append(
                    Item(
                        title: title, url: url, summary: summary(&random), isLead: itemIndex == 0 && sectionIndex == 0,
                        content: content))
            }
            sections.append(Section(title: titles.randomElement(using: &random) ?? "Section", items: items))
        }
        if huge {
            sections[0].items.append(
                Item(
                    title: "Huge", url: "https://example.com/huge",
                    summary: String(repeating: "A sentence of a very long body. ", count: 33_000),
                    content: .article(Article())))
        }
        let date = EditionDate(year: 2017, month: 11, day: Int.random(in: 1...28, using: &random))!
        return Edition(
            date: date, issueNumber: Int.random(in: 1...999, using: &random),
            subject: titles.randomElement(using: &random) ?? "Subject",
            preheader: titles.randomElement(using: &random) ?? "",
            note: Int.random(in: 0..<2, using: &random) == 0 ? "" : "A **note** with a [link](https://example.com/n).",
            sections: sections)
    }
}
