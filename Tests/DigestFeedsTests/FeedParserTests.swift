import DigestCore
import DigestFeeds
import DigestTestSupport
import Foundation
import Testing

enum Fixture {
    static let folder = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures")
    static let names = ["wordpress.xml", "atom.xml", "podcast.xml", "video.xml", "rdf.xml", "latin1.xml"]

    static func data(_ name: String) throws -> Data { try Data(contentsOf: folder.appendingPathComponent(name)) }

    static func feed(_ name: String) throws -> ParsedFeed {
        try FeedParser.parse(data(name), url: "https://feeds.example.org/\(name)")
    }
}

@Suite("Feed parsing")
struct FeedParserTests {
    @Test func wordpressRSSWithEntitiesScriptsAndRelativeLinks() throws {
        let feed = try Fixture.feed("wordpress.xml")
        #expect(feed.format == .rss2)
        #expect(feed.items.count == 4)
        let first = feed.items[0]
        #expect(first.title == "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town")
        #expect(first.id == "https://eaworldview.com/?p=165432")
        #expect(first.author == "Scott Lucas")
        #expect(first.categories == ["Syria", "Russia"])
        #expect(first.published == Timestamp.parse("2017-11-18T09:30:00Z"))
        #expect(
            first.summary.contains(
                "Islamic State in Syria… State media wrote of attacks that “tightened the siege” & more."))
        #expect(!first.summary.contains("alert"))
        #expect(
            !first.summaryHTML.contains("script") && !first.summaryHTML.contains("onclick")
                && !first.summaryHTML.contains("javascript"))
        #expect(first.summaryHTML.contains("href=\"https://eaworldview.com/2017/11/map/\""))
        #expect(first.imageURL == "https://eaworldview.com/wp-content/uploads/2017/11/map.jpg")
        #expect(first.kind == .article)
        #expect(feed.items[3].published == nil)
    }

    @Test func atomWithHTMLAndXHTMLContent() throws {
        let feed = try Fixture.feed("atom.xml")
        #expect(feed.format == .atom)
        #expect(feed.items[0].title == "Iran Daily: Rouhani Courts Europe")
        // The feed names its site (rel="alternate"): relative links resolve there, not where it was fetched.
        #expect(feed.items[0].link == "https://analysis.example.org/2017/11/iran-daily/")
        #expect(feed.items[0].summary == "Tehran’s president makes his pitch to European capitals.")
        #expect(feed.items[0].author == "Analyst One")
        #expect(feed.items[0].categories == ["Iran"])
        #expect(feed.items[1].summary == "Why Hariri resigned from Riyadh.")
        #expect(feed.items[1].author == "Desk")
        #expect(feed.items[1].published == Timestamp.parse("2017-11-18T08:00:00Z"))
    }

    @Test func podcastDurationsInEveryForm() throws {
        let feed = try Fixture.feed("podcast.xml")
        #expect(feed.items.map(\.kind) == [.podcast, .podcast, .podcast])
        #expect(feed.items.map(\.durationSeconds) == [1872, 1872, 3723])
        #expect(feed.items[0].episode == 58)
        #expect(
            feed.items[0].enclosure
                == .init(url: "https://eaworldview.com/podcasts/058.mp3", type: "audio/mpeg", length: 29_958_144))
        #expect(feed.items[0].imageURL == "https://eaworldview.com/podcast.jpg")
        #expect(feed.items[1].author == "EA WorldView Podcast")
    }

    @Test func mediaRSSVideo() throws {
        let item = try #require(try Fixture.feed("video.xml").items.first)
        #expect(item.kind == .video)
        #expect(item.durationSeconds == 1445)
        #expect(item.imageURL == "https://eaworldview.com/video/brexit.jpg")
        #expect(item.summary == "A conversation on how the referendum scrambled party loyalties.")
    }

    @Test func itemsLinkingToAVideoSiteAreVideos() throws {
        let xml = """
            <?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><title>a</title><link>https://www.YouTube.com/watch?v=x</link></item>
            <item><title>b</title><link>https://youtu.be/x</link></item>
            <item><title>c</title><link>https://vimeo.com/123</link></item>
            <item><title>d</title><link>https://eaworldview.com/youtube-com-story/</link></item>
            </channel></rss>
            """
        let feed = try FeedParser.parse(Data(xml.utf8), url: "https://example.org/feed")
        #expect(feed.items.map(\.kind) == [.video, .video, .video, .article])
    }

    @Test func rdfAndLatin1() throws {
        let rdf = try Fixture.feed("rdf.xml")
        #expect(rdf.format == .rss1)
        #expect(rdf.items.first?.title == "An RDF Story")
        #expect(rdf.items.first?.author == "Archivist")
        let latin = try Fixture.feed("latin1.xml")
        #expect(latin.title == "Café Politique")
        #expect(latin.items.first?.title == "Résumé de la journée")
        #expect(latin.items.first?.published == Timestamp.parse("2017-11-18T09:00:00Z"))
    }

    @Test func charsetFromTheHTTPHeaderIsHonoured() throws {
        // Latin-1 bytes with no XML declaration: only the HTTP header says what they are.
        let body =
            Data("<rss version=\"2.0\"><channel><title>Caf".utf8) + Data([0xE9]) + Data("</title></channel></rss>".utf8)
        let feed = try FeedParser.parse(body, url: "https://x.example/", encoding: "iso-8859-1")
        #expect(feed.title == "Café")
    }

    @Test(arguments: [
        ("truncated.xml", "not a well-formed feed: line"), ("page.html", "HTML page, not a feed"),
        ("notxml.txt", "not a well-formed feed"),
    ])
    func brokenDocumentsAreClearErrors(name: String, expected: String) throws {
        #expect {
            _ = try Fixture.feed(name)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func truncatedOrMutatedFixturesNeverCrashTheParser() throws {
        var random = SeededGenerator(seed: 42)
        var parsed = 0
        var errors = 0
        for name in Fixture.names {
            let original = Array(try Fixture.data(name))
            var variants: [[UInt8]] = stride(from: 0, to: original.count, by: max(1, original.count / 40)).map {
                Array(original[..<$0])
            }
            for _ in 0..<40 {
                var mutated = original
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    let index = Int.random(in: 0..<mutated.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: mutated[index] = UInt8.random(in: 0...255, using: &random)
                    case 1: mutated.remove(at: index)
                    default: mutated.insert(contentsOf: Array("<&\"]]>".utf8).shuffled(using: &random), at: index)
                    }
                }
                variants.append(mutated)
            }
            for variant in variants {
                do {
                    let feed = try FeedParser.parse(Data(variant), url: "https://x.example/")
                    parsed += feed.items.count >= 0 ? 1 : 0
                } catch let error as FeedError {
                    errors += 1
                    #expect(!error.message.isEmpty)
                }
            }
        }
        #expect(parsed + errors == Fixture.names.count * 81 || parsed + errors > 400)
        #expect(errors > 0)
    }
}
