import DigestCore
import DigestTestSupport
import Foundation
import Testing

@Suite("Rendering the sample edition")
struct RenderingTests {
    static let golden = Repository.root.appendingPathComponent("Tests/DigestCoreTests/Golden")

    @Test func textPartMatchesGoldenFile() throws {
        let (_, renderer, edition) = try Repository.sample()
        try Golden.check(try renderer.render(edition).text(), file: "sample.txt", folder: Self.golden)
    }

    @Test func htmlPartMatchesGoldenFile() throws {
        let (_, renderer, edition) = try Repository.sample()
        try Golden.check(try renderer.render(edition).html, file: "sample.html", folder: Self.golden)
    }

    @Test func terminalPreviewMatchesGoldenFile() throws {
        let (_, renderer, edition) = try Repository.sample()
        let styled = try renderer.render(edition).text(width: 60, painter: TextPainter(color: true, hyperlinks: true))
        try Golden.check(styled, file: "sample-preview-60.ansi", folder: Self.golden)
    }

    @Test func textPartKeepsTo72ColumnsExceptUnbreakableURLs() throws {
        let (_, renderer, edition) = try Repository.sample()
        let rendered = try renderer.render(edition)
        for line in rendered.text().split(separator: "\n") where DisplayWidth.of(line) > 72 {
            #expect(line.hasPrefix("["), "only reference lines with long URLs may pass 72 columns: \(line)")
            #expect(!line.dropFirst().contains(" ") || line.split(separator: " ").count == 2)
        }
    }

    @Test func everyLinkOfTheHTMLPartIsANumberedReferenceInTheTextPart() throws {
        let (publication, renderer, edition) = try Repository.sample()
        let rendered = try renderer.render(edition)
        let text = rendered.text()
        for item in edition.items {
            #expect(rendered.links.contains(item.url))
            #expect(rendered.html.contains("href=\"\(item.url)\""))
        }
        for (index, url) in rendered.links.enumerated() {
            #expect(text.contains("[\(index + 1)] \(url)"))
        }
        #expect(text.hasSuffix("To unsubscribe, open:\n\(publication.unsubscribeURL)\n"))
    }

    @Test func plainPaintingLeavesNoMarksOrEscapes() throws {
        let (_, renderer, edition) = try Repository.sample()
        let text = try renderer.render(edition).text(width: 50)
        #expect(!text.unicodeScalars.contains { (0xE000...0xE00F).contains($0.value) || $0 == "\u{1B}" })
    }

    @Test func titlesCannotForgeStyleMarks() throws {
        var (_, renderer, edition) = try Repository.sample()
        edition.sections[0].items[0].title = "Forged \u{E004}99\u{E005} \u{E000}bold"
        let text = try renderer.render(edition).text(painter: TextPainter(color: true, hyperlinks: true))
        #expect(text.contains("Forged 99 bold"))
    }

    @Test func htmlEscapesContentFromTheEdition() throws {
        var (_, renderer, edition) = try Repository.sample()
        edition.sections[0].items[0].summary = "<script>alert('x')</script> & more"
        let html = try renderer.render(edition).html
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;"))
    }

    @Test func arabicSubjectMakesTheHTMLRightToLeft() throws {
        var (_, renderer, edition) = try Repository.sample()
        edition.subject = "سوريا اليوم: النظام وروسيا"
        let html = try renderer.render(edition).html
        #expect(html.contains("<html lang=\"en\" dir=\"rtl\""))
        #expect(html.contains("<div lang=\"en\" dir=\"rtl\""))
    }

    @Test func emptySectionSaysSoInsteadOfVanishing() throws {
        var (_, renderer, edition) = try Repository.sample()
        edition.sections.append(Section(title: "Elsewhere", items: []))
        let rendered = try renderer.render(edition)
        #expect(rendered.text().contains("Elsewhere\n=========\n\nNothing in this section today."))
        #expect(rendered.html.contains("Nothing in this section today."))
    }
}

@Suite("Rendering editions of every shape")
struct EditionShapeTests {
    static let golden = Repository.root.appendingPathComponent("Tests/DigestCoreTests/Golden")
    static let names = ["kinds", "arabic", "forty"]

    @Test(arguments: names) func textPartMatchesGoldenFile(name: String) throws {
        let (_, renderer, edition) = try Repository.edition(name)
        try Golden.check(try renderer.render(edition).text(), file: "\(name).txt", folder: Self.golden)
    }

    @Test(arguments: names) func htmlPartMatchesGoldenFile(name: String) throws {
        let (_, renderer, edition) = try Repository.edition(name)
        try Golden.check(try renderer.render(edition).html, file: "\(name).html", folder: Self.golden)
    }

    @Test(arguments: names) func terminalPreviewMatchesGoldenFile(name: String) throws {
        let (_, renderer, edition) = try Repository.edition(name)
        let styled = try renderer.render(edition).text(width: 60, painter: TextPainter(color: true, hyperlinks: true))
        try Golden.check(styled, file: "\(name)-preview-60.ansi", folder: Self.golden)
    }

    @Test(arguments: ["sample"] + names) func textPartKeepsTo72ColumnsExceptUnbreakableURLs(name: String) throws {
        let (_, renderer, edition) = try Repository.edition(name)
        for line in try renderer.render(edition).text().split(separator: "\n") where DisplayWidth.of(line) > 72 {
            #expect(line.split(separator: " ").count <= 2, "only a lone URL may pass 72 columns: \(line)")
            #expect(line.contains("://"), "only a URL may pass 72 columns: \(line)")
        }
    }

    @Test func everyKindLooksDistinctInBothParts() throws {
        let (_, renderer, edition) = try Repository.edition("kinds")
        let rendered = try renderer.render(edition)
        let text = rendered.text()
        #expect(text.contains("TOP STORY\n=========\n\nLead Story: Aleppo's Markets Reopen Under a Fragile Calm [2]"))
        #expect(text.contains("EA WorldView Podcast · Episode 59 · 1 h 3 min"))
        #expect(text.contains("An Article Without a Byline or a Time [3]\nSome feeds give neither"))
        #expect(text.contains("Listen: [5]"))
        #expect(text.contains("Elsewhere\n=========\n\nNothing in this section today."))
        #expect(rendered.html.contains(">Top story</p>"))
        #expect(rendered.html.contains("&#9654;&nbsp;Listen ("))
        #expect(rendered.html.contains("&#9654;&nbsp;Watch the video"))
        #expect(rendered.html.contains("alt=\"A map of Yemen with the front lines drawn in red\""))
        // An episode without an audio file is listened to on its page.
        #expect(
            rendered.html.contains("href=\"https://example.org/2017/11/episode-page/\" dir=\"auto\" style=\"display:inline"))
    }

    @Test func arabicEditionReadsRightToLeftWithBordersOnTheRight() throws {
        let (_, renderer, edition) = try Repository.edition("arabic")
        let html = try renderer.render(edition).html
        #expect(html.contains("<html lang=\"ar\" dir=\"rtl\""))
        #expect(html.contains("<div lang=\"ar\" dir=\"rtl\""))
        #expect(html.contains("text-align:right;"))
        #expect(!html.contains("text-align:left;"))
        #expect(html.contains("padding-right:10px;border-right:3px solid #b3261e;"))
        #expect(html.contains("dir=\"auto\""))
    }

    @Test func typicalAndLongEditionsStayUnderGmailsClippingLimit() throws {
        let (_, renderer, forty) = try Repository.edition("forty")
        #expect(forty.items.count == 40)
        var twenty = forty
        twenty.sections = Array(forty.sections.prefix(4))
        #expect(twenty.items.count == 20)
        let twentySize = try renderer.render(twenty).html.utf8.count
        let fortySize = try renderer.render(forty).html.utf8.count
        #expect(twentySize < GmailClipping.budget, "20 items: \(twentySize) bytes")
        #expect(fortySize < GmailClipping.limit, "40 items: \(fortySize) bytes")
        #expect(GmailClipping.warning(html: try renderer.render(forty).html) == nil)
    }

    @Test func anOversizedEditionIsWarnedAbout() throws {
        let (_, renderer, forty) = try Repository.edition("forty")
        var huge = forty
        huge.sections = Array(repeating: forty.sections, count: 4).flatMap { $0 }
        let html = try renderer.render(huge).html
        #expect(html.utf8.count > GmailClipping.limit)
        let warning = try #require(GmailClipping.warning(html: html))
        #expect(warning.contains("over Gmail's 102.0 KB clipping limit"))
        #expect(warning.contains("KB"))
    }
}

@Suite("Text layout")
struct TextLayoutTests {
    @Test func wrapsAtSpacesAndNeverInsideAURL() {
        let url = "https://example.com/" + String(repeating: "a", count: 100)
        let wrapped = TextWrapper.wrap("Read more at \(url) today please", width: 40)
        #expect(wrapped == "Read more at\n\(url)\ntoday please")
    }

    @Test func listItemsHangUnderTheirText() {
        let wrapped = TextWrapper.wrap("- one two three four five six seven eight nine ten", width: 24)
        #expect(wrapped == "- one two three four\n  five six seven eight\n  nine ten")
    }

    @Test func wideCharactersCountTwoColumns() {
        #expect(DisplayWidth.of("日本語") == 6)
        #expect(DisplayWidth.of("café") == 4)
        #expect(DisplayWidth.of("e\u{301}") == 1)
        let wrapped = TextWrapper.wrap("日本語 日本語 日本語 日本語", width: 20)
        #expect(wrapped.split(separator: "\n").allSatisfy { DisplayWidth.of($0) <= 20 })
    }

    @Test func headingRulesAreCutToTheWidth() {
        #expect(TextWrapper.wrap(String(repeating: "=", count: 30), width: 20) == String(repeating: "=", count: 20))
    }

    @Test func referencesBecomeHyperlinksOnlyWhenAsked() {
        let marked = "See " + TextMarks.reference(1) + " and " + TextMarks.bold("this")
        #expect(TextPainter.plain.paint(marked, links: ["https://example.com"]) == "See [1] and this")
        let styled = TextPainter(color: true, hyperlinks: true).paint(marked, links: ["https://example.com"])
        #expect(
            styled
                == "See \u{1B}]8;;https://example.com\u{1B}\\\u{1B}[36m[1]\u{1B}[39m\u{1B}]8;;\u{1B}\\ and \u{1B}[1mthis\u{1B}[22m"
        )
    }
}
