import DigestCore
@testable import DigestFeeds
import DigestHTML
import DigestTestSupport
import Foundation
import Testing

/// The faults real feeds have that issue 14 found, one test each, on the corpus's fixtures.
@Suite("Feeds of the real world")
struct RealWorldFeedTests {
    func corpus(_ name: String, url: String? = nil) throws -> ParsedFeed {
        let feed = try #require(Corpus.manifest.feeds.first { $0.file == name })
        return try FeedParser.parse(
            Data(contentsOf: Corpus.folder.appendingPathComponent(name)), url: url ?? feed.url)
    }

    func merge(_ feed: ParsedFeed, url: String, on day: String) -> (Edition, MergeReport) {
        let date = EditionDate(day)!
        let zone = TimeZone(identifier: "UTC")!
        let window = EditionMerger.window(for: date, settings: GatherSettings(), previous: nil, timeZone: zone)
        return EditionMerger.merge(
            existing: nil, feeds: [GatheredFeed(source: FeedSource(url: url, section: "Today"), items: feed.items)],
            date: date, window: window, summaryLength: 280)
    }

    // MARK: 1. Items without a link

    @Test func anItemWithOnlyAPermalinkGUIDLinksToIt() throws {
        let feed = try corpus("wordpress-permalink-guid.xml")
        #expect(
            feed.items.map(\.link) == [
                "https://allotment.example/2026/11/garlic/", "https://allotment.example/2026/11/leaf-mould/",
            ])
        #expect(feed.items.map(\.linkSource) == [.guid, .guid])
    }

    @Test func anEpisodeWithOnlyAnEnclosureLinksToItsAudioAndIsGathered() throws {
        let feed = try corpus("podcast-enclosure-only.xml")
        #expect(feed.items.map(\.linkSource) == [.enclosure, .enclosure])
        #expect(feed.items[0].link == "https://cdn.nightshift.example/episodes/023.mp3")
        #expect(feed.items[0].id == "nightshift-023")
        let (edition, report) = merge(feed, url: "https://feeds.nightshift.example/rss", on: "2026-11-19")
        #expect(report.added == ["Episode 23: The baker"])
        #expect(report.dropped.isEmpty)
        #expect(edition.items.first?.kind == .podcast)
    }

    @Test func aGUIDThatIsNotAnAddressGivesWayToTheEnclosure() throws {
        let feed = try corpus("podcast-apple-example.xml")
        #expect(feed.items.map(\.linkSource) == [.enclosure, .enclosure])
        #expect(feed.items[1].link == "http://example.com/podcasts/everything/mthood.m4a")
    }

    @Test func itemsWithNothingButTheirFeedsPageLinkThereAndAreNotTakenForDuplicates() throws {
        let feed = try corpus("notices-feed-link.xml")
        #expect(feed.items.map(\.linkSource) == [.feed, .feed])
        #expect(feed.items.map(\.link) == ["https://stmarys.example/notices", "https://stmarys.example/notices"])
        #expect(feed.items[0].id != feed.items[1].id)
        let (edition, report) = merge(feed, url: "https://stmarys.example/notices/rss", on: "2026-11-20")
        #expect(edition.items.count == 2)
        #expect(report.duplicates == 0)
    }

    @Test func itemsWithNoWebLinkAnywhereAreReportedOneByOneWithTheReason() throws {
        let feed = try corpus("no-links-anywhere.xml")
        #expect(feed.items.map(\.linkSource) == [.none, .none])
        let feedURL = "file:///var/exports/handover.xml"
        let window = EditionMerger.window(
            for: EditionDate("2026-11-20")!, settings: GatherSettings(window: .sinceLastEdition),
            previous: EditionDate("2026-11-18"), timeZone: TimeZone(identifier: "UTC")!)
        let (edition, report) = EditionMerger.merge(
            existing: nil,
            feeds: [GatheredFeed(source: FeedSource(url: feedURL, section: "Today"), items: feed.items)],
            date: EditionDate("2026-11-20")!, window: window, summaryLength: 280)
        #expect(edition.items.isEmpty)
        #expect(report.dropped.map(\.title) == ["Boiler serviced", "Gate code changed"])
        #expect(report.dropped.allSatisfy { $0.feed == feedURL })
        #expect(report.dropped[0].reason.hasPrefix("it has no link, no permalink GUID, no enclosure"))
        #expect(report.dropped[1].reason.hasPrefix("its link \"mailto:office@handover.example\" is not a web"))
    }

    // MARK: 2. Relative links

    @Test func relativeLinksResolveAgainstTheFeedsOwnAddressNotTheFileItWasReadFrom() throws {
        let atom = try corpus("atom-self-relative.xml", url: "file:///home/editor/feeds/diveintomark.xml")
        #expect(atom.items[0].link == "https://diveintomark.example/blog/2003/12/13/atom03")
        let rss = try corpus("wordpress-relative-links.xml", url: "file:///srv/mirror/oldmill.xml")
        #expect(
            rss.items.map(\.link) == [
                "https://oldmill.example/blog/2026/11/loom-room/", "https://oldmill.example/blog/2026/11/volunteers/",
            ])
        #expect(rss.items[0].enclosure?.url == "https://oldmill.example/media/loom.jpg")
        #expect(rss.items[0].summaryHTML.contains("href=\"https://oldmill.example/visit/\""))
    }

    @Test func xmlBaseComesFirstAndNests() throws {
        let feed = try corpus("atom-xml-base.xml", url: "file:///tmp/sam.atom")
        #expect(feed.link == "https://intertwingly.example/blog/")
        #expect(
            feed.items.map(\.link) == [
                "https://intertwingly.example/blog/2026/11/19/relative-references",
                "https://intertwingly.example/archive/3200.html",
            ])
    }

    @Test func withNoDeclaredAddressRelativeLinksResolveWhereTheFeedWasFetched() throws {
        let xml = """
            <rss version="2.0"><channel><title>t</title>
            <item><title>a</title><link>/a</link></item></channel></rss>
            """
        let feed = try FeedParser.parse(Data(xml.utf8), url: "https://fetched.example/feeds/rss")
        #expect(feed.items[0].link == "https://fetched.example/a")
    }

    // MARK: 3. Atom 0.3, RSS 0.90, and what a non-feed is

    @Test func atom03IsRead() throws {
        let feed = try corpus("blogger-atom03.xml")
        #expect(feed.format == .atom03)
        #expect(feed.title == "Letters from Lisbon")
        #expect(feed.items.map(\.title) == ["The 28 tram at dawn", "Azulejos & their makers"])
        #expect(feed.items[0].published == Timestamp.parse("2026-11-16T08:10:00Z"))
        #expect(feed.items[0].summary == "Before the tourists, the tram is ours.")
        #expect(feed.items[0].author == "Rui Costa")
        #expect(feed.items[1].link == "https://lisbonletters.blogspot.example/2026/11/azulejos.html")
    }

    @Test func rss090IsRead() throws {
        let feed = try corpus("rss090.xml")
        #expect(feed.format == .rss090)
        #expect(feed.title == "Mozilla Dot Org")
        #expect(feed.items.map(\.link) == ["http://www.mozilla.example/status/", "http://www.mozilla.example/bugs/"])
    }

    @Test(arguments: [
        (
            "<?xml version=\"1.0\"?><feed xmlns=\"http://example.org/not-atom\"><entry/></feed>",
            "its root is <feed> in the namespace \"http://example.org/not-atom\", which is neither Atom 1.0"
        ),
        ("{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": []}", "this is JSON, not an RSS or Atom feed"),
        ("<!DOCTYPE html><html><head><title>x</title></head><body><p>hi</body></html>", "this is an HTML page"),
        (
            "<?xml version=\"1.0\"?><opml version=\"2.0\"><body/></opml>",
            "an XML document whose root element is <opml>"
        ),
    ])
    func aDocumentThatIsNotAFeedIsNamedForWhatItIs(document: String, expected: String) throws {
        #expect {
            _ = try FeedParser.parse(Data(document.utf8), url: "https://x.example/")
        } throws: { error in
            "\(error)".contains(expected) && !"\(error)".contains("not <rss>, <feed>")
        }
    }

    // MARK: 4. Small faults every reader tolerates

    @Test(arguments: [
        ("wordpress-blank-line.xml", "white space before the XML declaration (1 byte) was skipped"),
        ("wordpress-bom-blank-lines.xml", "white space after a byte order mark before the XML declaration (4 bytes)"),
        ("wordpress-html-entities.xml", "HTML entities that XML does not define (&copy;, &eacute;, &hellip;"),
        ("wordpress-bare-ampersand.xml", "6 unescaped & read as &amp;"),
        ("latin1-undeclared.xml", "no encoding is declared but the bytes are not UTF-8: read as Windows-1252"),
        ("windows1252-declared-utf8.xml", "UTF-8 is declared but the bytes are not UTF-8: read as Windows-1252"),
    ])
    func aSlightlyBrokenFeedIsReadAndTheRepairNamed(name: String, repair: String) throws {
        let feed = try corpus(name)
        #expect(feed.items.count == 2)
        #expect(feed.recoveries.contains { $0.contains(repair) }, "\(feed.recoveries)")
    }

    @Test func repairedTextReadsAsThePublisherMeantIt() throws {
        #expect(try corpus("wordpress-html-entities.xml").items[0].title == "Ten beans worth the price — a tasting")
        #expect(try corpus("wordpress-bare-ampersand.xml").items[0].title == "Nuts & bolts: a buyer's guide")
        #expect(
            try corpus("wordpress-bare-ampersand.xml").items[0].link
                == "https://smithdaughters.example/?p=12&preview=false")
        #expect(try corpus("latin1-undeclared.xml").items[0].title == "Fête de quartier: le programme complet")
        #expect(
            try corpus("windows1252-declared-utf8.xml").items[0].title
                == "November’s meeting – the car park “decision”")
        #expect(try corpus("wordpress-blank-line.xml").items.count == 2)
    }

    @Test func aWellFormedFeedNeedsNoRepair() throws {
        for name in ["wordpress.xml", "iso-8859-1-declared.xml", "utf16-atom.xml", "rss10-rdf.xml"] {
            #expect(try corpus(name).recoveries.isEmpty, "\(name)")
        }
    }

    @Test func aTruncatedFeedIsStillAnError() throws {
        let whole = try Data(contentsOf: Corpus.folder.appendingPathComponent("wordpress-blank-line.xml"))
        #expect(throws: FeedError.self) {
            try FeedParser.parse(whole.prefix(whole.count / 2), url: "https://x.example/")
        }
    }

    @Test func theCleanUpPassLeavesCDATAAndCommentsAlone() throws {
        let xml = """

            <?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link>
            <!-- R&D -->
            <item><title><![CDATA[R&D &amp; co]]></title><link>https://x.example/1</link>
            <description>Caf&eacute; &amp; bar</description></item></channel></rss>
            """
        let feed = try FeedParser.parse(Data(xml.utf8), url: "https://x.example/feed")
        #expect(feed.items[0].title == "R&D & co")
        #expect(feed.items[0].summary == "Café & bar")
        #expect(feed.recoveries.count == 2)
    }

    @Test func theByteWiseWebAddressCheckAgreesWithTheCharacterWiseOne() {
        func general(_ text: String) -> Bool {
            let lower = text.lowercased()
            return (lower.hasPrefix("http://") || lower.hasPrefix("https://")) && !text.contains(where: \.isWhitespace)
        }
        let samples = [
            "https://x.example/", "HTTP://X.EXAMPLE/a", "Https://x.example/é", "https://x.example/a b",
            "https://x.example/\u{00A0}", "https://x.example/\u{2003}x", "http:/x", "ftp://x", "", "http://",
            "mailto:a@b", " https://x.example/", "https://x.example/\t", "httpS://x.example/ü?q=1#f",
        ]
        for sample in samples { #expect(YAMLSafe.isWebURL(sample) == general(sample), "\(sample)") }
    }

    // MARK: 5. Pictures, paragraphs and labels

    @Test func aMediaContentPictureWithAnEmptyTypeIsThePictureNotTheEnclosure() throws {
        let feed = try corpus("newspaper-empty-media-type.xml")
        #expect(
            feed.items.map(\.imageURL) == [
                "https://coastalherald.example/images/harbour-wall.jpg",
                "https://coastalherald.example/images/pier-cafe.PNG?w=800",
            ])
        #expect(feed.items.allSatisfy { $0.enclosure == nil && $0.kind == .article })
        let guardian = try corpus("newspaper-guardian.xml")
        #expect(guardian.items[0].enclosure == nil)
        #expect(guardian.items[0].imageURL?.hasPrefix("https://i.ledgerimg.example/img/media/abc/") == true)
    }

    @Test func twoParagraphsDoNotRunTogetherInTheSummary() throws {
        let item = try corpus("newspaper-guardian.xml").items[0]
        let summary = HTMLCleaner.summary(item.summary, length: 280)
        #expect(summary.hasPrefix("European leaders say they were met with contempt — Donald Trump has promised"))
        let plain = HTMLCleaner.clean("First paragraph\n\nSecond one.", base: nil)
        #expect(plain.text == "First paragraph\n\nSecond one.")
        #expect(plain.html == "<p>First paragraph</p><p>Second one.</p>")
        #expect(HTMLCleaner.summary("Ends with a stop.\n\nNext.", length: 280) == "Ends with a stop. Next.")
    }

    @Test func rss091And092AreLabelledAsSuch() throws {
        #expect(try corpus("rss091.xml").format == .rss091)
        #expect(try corpus("rss092.xml").format == .rss092)
        #expect(try corpus("wordpress.xml").format == .rss2)
    }
}
