import DigestCore
import DigestFeeds
import DigestTestSupport
import Foundation
import Testing

@Suite("Merging gathered items into the edition")
struct MergeTests {
    static let date = EditionDate("2017-11-18")!
    static let london = TimeZone(identifier: "Europe/London")!

    func feeds() throws -> [GatheredFeed] {
        [
            GatheredFeed(
                source: FeedSource(url: "https://eaworldview.com/feed/", section: "Today"),
                items: try Fixture.feed("wordpress.xml").items),
            GatheredFeed(
                source: FeedSource(url: "https://analysis.example.org/atom", section: "Today"),
                items: try Fixture.feed("atom.xml").items),
            GatheredFeed(
                source: FeedSource(url: "https://eaworldview.com/podcast.xml", section: "Listen"),
                items: try Fixture.feed("podcast.xml").items),
            GatheredFeed(
                source: FeedSource(url: "https://eaworldview.com/video.xml", section: "Watch"),
                items: try Fixture.feed("video.xml").items),
        ]
    }

    func gather(_ existing: Edition?) throws -> (Edition, MergeReport) {
        let window = EditionMerger.window(
            for: Self.date, settings: GatherSettings(), previous: nil, timeZone: Self.london)
        return EditionMerger.merge(
            existing: existing, feeds: try feeds(), date: Self.date, window: window, summaryLength: 280)
    }

    @Test func firstGatherBuildsSectionsDedupesAndFlagsUndatedItems() throws {
        let (edition, report) = try gather(nil)
        #expect(edition.sections.map(\.title) == ["Today", "Listen", "Watch"])
        let today = edition.sections[0].items.map(\.title)
        #expect(today.contains("Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town"))
        #expect(!today.contains("Yesterday's News"))
        #expect(!today.contains("Same story as the RSS feed"), "the same URL with a fragment is a duplicate")
        #expect(report.duplicates == 1)
        #expect(report.undated == ["An Item Without a Date"])
        #expect(edition.items.first?.isLead == true)
        #expect(edition.subject == edition.items.first?.title)
        #expect(edition.sections[1].items.map(\.kind) == [.podcast, .podcast, .podcast])
        #expect(edition.sections[2].items.first?.kind == .video)
        // What gather writes, the edition decoder reads back the same.
        let text = EditionFile.encode(edition)
        #expect(try EditionFile.decode(text, file: "edition.yaml") == edition)
    }

    @Test func regatherKeepsTheEditorsOrderCutsNotesAndSummaries() throws {
        var (edition, _) = try gather(nil)
        // The editor moves the last item of Today first, cuts one, edits a summary and adds a note.
        var today = edition.sections[0].items
        let moved = today.removeLast()
        today.insert(moved, at: 0)
        let cut = today.remove(at: 1)
        today[1].summary = "The editor's own summary."
        today[1].editorNote = "Read this one."
        edition.sections[0].items = today
        edition.sections.swapAt(1, 2)
        let edited = try EditionFile.decode(EditionFile.encode(edition), file: "edition.yaml")

        let (again, report) = try gather(edited)
        #expect(again.sections.map(\.title) == ["Today", "Watch", "Listen"])
        #expect(again.sections[0].items.map(\.title) == edited.sections[0].items.map(\.title))
        #expect(again.sections[0].items[1].summary == "The editor's own summary.")
        #expect(again.sections[0].items[1].editorNote == "Read this one.")
        #expect(!again.items.contains { $0.source?.guid == cut.source?.guid }, "a cut item does not come back")
        #expect(again.removedItemIDs.contains(cut.source?.guid ?? ""))
        #expect(report.added.isEmpty)
        #expect(report.keptOut == 1)
    }

    @Test func dayBoundaryFollowsThePublicationsZone() throws {
        let beirut = TimeZone(identifier: "Asia/Beirut")!
        let window = EditionMerger.window(for: Self.date, settings: GatherSettings(), previous: nil, timeZone: beirut)
        #expect(window.start == Timestamp.parse("2017-11-17T22:00:00Z"))
        #expect(window.end == Timestamp.parse("2017-11-18T22:00:00Z"))
        // Fri 17 Nov 21:00 UTC is still the 17th in London but 23:00 on the 17th in Beirut too: out in both.
        // 23:30 UTC on the 17th is the 18th in Beirut.
        #expect(window.contains(Timestamp.parse("2017-11-17T23:30:00Z")!))
    }

    @Test func daylightSavingDayIsTwentyFiveHoursLong() throws {
        let date = EditionDate("2017-10-29")!
        let window = EditionMerger.window(for: date, settings: GatherSettings(), previous: nil, timeZone: Self.london)
        #expect(window.duration == 25 * 3600)
        #expect(window.start == Timestamp.parse("2017-10-28T23:00:00Z"))
        let spring = EditionMerger.window(
            for: EditionDate("2017-03-26")!, settings: GatherSettings(), previous: nil, timeZone: Self.london)
        #expect(spring.duration == 23 * 3600)
    }

    @Test func sinceLastEditionWindowStartsAfterThePreviousEditionsDay() throws {
        let settings = GatherSettings(window: .sinceLastEdition)
        let window = EditionMerger.window(
            for: Self.date, settings: settings, previous: EditionDate("2017-11-15"), timeZone: Self.london)
        #expect(window.start == Timestamp.parse("2017-11-16T00:00:00Z"))
        #expect(window.end == Timestamp.parse("2017-11-19T00:00:00Z"))
    }

    @Test func untouchedSummariesFollowTheFeedAndEditedOnesDoNot() throws {
        var (edition, _) = try gather(nil)
        let index = try #require(edition.sections[0].items.firstIndex { $0.title.hasPrefix("Raqqa") })
        var feeds = try feeds()
        let feedIndex = try #require(feeds[0].items.firstIndex { $0.title.hasPrefix("Raqqa") })
        feeds[0].items[feedIndex].summary = "A corrected summary from the site."
        let window = EditionMerger.window(
            for: Self.date, settings: GatherSettings(), previous: nil, timeZone: Self.london)
        let (updated, report) = EditionMerger.merge(
            existing: edition, feeds: feeds, date: Self.date, window: window, summaryLength: 280)
        #expect(updated.sections[0].items[index].summary == "A corrected summary from the site.")
        #expect(report.updated.count == 1)
        edition.sections[0].items[index].summary = "Mine."
        let (kept, _) = EditionMerger.merge(
            existing: edition, feeds: feeds, date: Self.date, window: window, summaryLength: 280)
        #expect(kept.sections[0].items[index].summary == "Mine.")
    }

    @Test func aPodcastsShowIsTheChannelsTitleNotItsHost() throws {
        var items = try Fixture.feed("podcast.xml").items
        for index in items.indices { items[index].author = "Scott Lucas (host)" }
        let feed = GatheredFeed(
            source: FeedSource(url: "https://eaworldview.com/podcast.xml", section: "Listen"), items: items,
            title: "  EA WorldView\n Podcast ")
        let window = EditionMerger.window(
            for: Self.date, settings: GatherSettings(), previous: nil, timeZone: Self.london)
        let (edition, _) = EditionMerger.merge(
            existing: nil, feeds: [feed], date: Self.date, window: window, summaryLength: 280)
        for item in edition.items {
            guard case .podcast(let episode) = item.content else {
                Issue.record("\(item.title) is not a podcast episode")
                continue
            }
            #expect(episode.show == "EA WorldView Podcast")
        }
    }

    @Test func theGeneratedPreheaderFollowsCutsUntilTheEditorWritesTheirOwn() throws {
        let (first, _) = try gather(nil)
        let lead = try #require(first.items.first)
        let others = first.items.dropFirst().prefix(3).map(\.title)
        #expect(first.preheader == others.joined(separator: " · "))
        #expect(first.preheaderFingerprint != nil)
        // The editor cuts the second item: the next gather's preheader no longer names it.
        var cut = first
        let cutTitle = others[0]
        for index in cut.sections.indices { cut.sections[index].items.removeAll { $0.title == cutTitle } }
        let (after, _) = try gather(cut)
        #expect(!after.preheader.contains(cutTitle))
        #expect(!after.preheader.contains(lead.title))
        #expect(after.preheader == after.items.filter { !$0.isLead }.prefix(3).map(\.title).joined(separator: " · "))
        // Once the editor writes their own, gather leaves it alone, cut or no cut.
        var mine = after
        mine.preheader = "My own line."
        let second = mine.items.filter { !$0.isLead }[0].title
        for index in mine.sections.indices { mine.sections[index].items.removeAll { $0.title == second } }
        let (kept, _) = try gather(mine)
        #expect(kept.preheader == "My own line.")
        // An edition whose preheader was written by hand before fingerprints (the sample) keeps it.
        var legacy = first
        legacy.preheader = "Al-Bukamal again."
        legacy.preheaderFingerprint = nil
        #expect(try gather(legacy).0.preheader == "Al-Bukamal again.")
    }
}
