import DigestCore
import DigestHTML
import DigestTestSupport
import Foundation
import Testing

@Suite("The HTML part as a text browser shows it")
struct HTMLTextBrowserTests {
    static let golden = Repository.root.appendingPathComponent("Tests/DigestHTMLTests/Golden")
    static let editions = ["sample", "kinds", "arabic", "forty"]

    @Test(arguments: editions) func htmlPreviewMatchesGoldenFile(name: String) throws {
        let (_, renderer, edition) = try Repository.edition(name)
        let page = HTMLTextBrowser.browse(try renderer.render(edition).html)
        try Golden.check(page.text(), file: "\(name)-html.txt", folder: Self.golden)
    }

    @Test func styledHTMLPreviewMatchesGoldenFile() throws {
        let (_, renderer, edition) = try Repository.edition("sample")
        let page = HTMLTextBrowser.browse(try renderer.render(edition).html)
        try Golden.check(
            page.text(width: 60, painter: TextPainter(color: true, hyperlinks: true)), file: "sample-html-60.ansi",
            folder: Self.golden)
    }

    /// The HTML part and the text part carry the same links: what a reader of either can open.
    @Test(arguments: editions) func htmlAndTextPartsGiveTheSameLinks(name: String) throws {
        let (publication, renderer, edition) = try Repository.edition(name)
        let rendered = try renderer.render(edition)
        let page = HTMLTextBrowser.browse(rendered.html)
        #expect(Set(page.links) == Set(rendered.links + [publication.unsubscribeURL]))
        #expect(Set(HTMLTextBrowser.facts(rendered.html).links) == Set(page.links))
    }

    /// The default templates show the lead article's picture and video thumbnails, each with its alt text.
    @Test(arguments: editions) func everyImageShownHasItsAltText(name: String) throws {
        let (_, renderer, edition) = try Repository.edition(name)
        let html = try renderer.render(edition).html
        let shown = edition.items.compactMap { item -> Image? in
            switch item.content {
            case .article(let article): item.isLead ? article.image : nil
            case .podcast: nil
            case .video(let video): video.thumbnail
            }
        }
        let images = HTMLTextBrowser.facts(html).images
        #expect(images == shown.map { HTMLFacts.ImageTag(src: $0.url, alt: $0.alt) })
        let text = HTMLTextBrowser.browse(html).text(width: 400)
        for image in shown { #expect(text.contains("[image: \(image.alt)]")) }
    }

    @Test func showsStructureAltTextsHiddenTextAndNumberedLinks() {
        let html = """
            <!DOCTYPE html><html><head><title>T</title><style>p { color: red }</style></head><body>
            <div style="display: none">The preheader</div>
            <!--[if mso]><p>Only Outlook sees this</p><![endif]-->
            <table role="presentation"><tr><td><h2>Section</h2></td></tr>
            <tr><td><p>Some   <strong>bold</strong>
            text with <a href="https://example.com/a">a link</a>.</p>
            <a href="https://example.com/a"><img src="x.jpg" alt="A picture"></a>
            <img src="spacer.gif" alt=""><img src="bad.jpg">
            <ul><li>one</li><li>two</li></ul><ol><li>first</li></ol>
            <p>Line<br>break &amp; entity <a href="https://example.com/b">b</a></p></td></tr></table>
            <script>alert(1)</script></body></html>
            """
        let page = HTMLTextBrowser.browse(html)
        #expect(page.links == ["https://example.com/a", "https://example.com/b"])
        #expect(
            page.text() == """
                (hidden) The preheader

                Section

                Some bold text with a link [1].

                [image: A picture] [1] [image without alt text]

                - one
                - two

                1. first

                Line
                break & entity b [2]

                Links
                [1] https://example.com/a
                [2] https://example.com/b

                """)
        let styled = page.text(painter: TextPainter(color: true, hyperlinks: false))
        #expect(styled.contains("\u{1B}[1mSection\u{1B}[22m"))
        #expect(styled.contains("\u{1B}[2m(hidden) The preheader\u{1B}[22m"))
    }

    @Test func factsListLinksAndImagesWithMissingAltTexts() {
        let facts = HTMLTextBrowser.facts(
            #"<p><a href=" https://example.com/a ">a</a><img src="i.jpg" alt="x"><img src="j.jpg"><a name="n">n</a></p>"#
        )
        #expect(facts.links == ["https://example.com/a"])
        #expect(facts.images == [.init(src: "i.jpg", alt: "x"), .init(src: "j.jpg", alt: nil)])
    }
}
