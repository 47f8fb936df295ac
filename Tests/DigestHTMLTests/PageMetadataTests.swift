import DigestCore
import DigestHTML
import DigestTestSupport
import Foundation
import Testing

@Suite("Web page metadata")
struct PageMetadataTests {
    @Test func openGraphAndJSONLDGiveTheArticle() throws {
        let page = PageMetadata.parse(try Fixture.data("article.html"), url: "https://eaworldview.com/?p=165432")
        #expect(page.title == "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town")
        #expect(
            page.description == "Pro-Assad forces, backed by Russian airstrikes, are trying again to take al-Bukamal.")
        #expect(page.author == "Scott Lucas")
        #expect(page.published == Timestamp.parse("2017-11-18T09:30:00Z"))
        #expect(page.imageURL == "https://eaworldview.com/wp-content/uploads/2017/11/map.jpg")
        #expect(page.imageAlt == "Map of Deir ez-Zor Province")
        #expect(page.canonicalURL == "https://eaworldview.com/2017/11/syria-daily/")
    }

    @Test func bareTitleAndFirstParagraphAreTheFallback() throws {
        let page = PageMetadata.parse(try Fixture.data("bare.html"), url: "https://example.org/a")
        #expect(page.title == "Just a Title")
        #expect(page.description == "Only the first paragraph & nothing else.")
        #expect(page.published == nil)
        #expect(page.imageURL == nil)
    }
}

/// The web pages `digest add` reads, shared with the feed server of the integration tests.
enum Fixture {
    static let folder = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures")

    static func data(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }
}
