import DigestCore
import DigestTestSupport
import Foundation
import Testing

/// `digest gather` against feeds served over real HTTP on loopback (and file://).
@Suite("Gathering feeds", .serialized)
struct GatherTests {
    let cli = DigestBinary()

    /// A workspace whose publication.yaml lists `feeds` (url, section) and a short fetch timeout.
    func workspace(feeds: [(String, String)]) throws -> URL {
        let workspace = try cli.workspaceCopy()
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("Editions/2017-11-18"))
        let config = workspace.appendingPathComponent("publication.yaml")
        // The sample's own feeds and gather settings give way to the test's.
        var text = try String(contentsOf: config, encoding: .utf8).components(
            separatedBy: "# What `digest gather` reads")[0]
        text +=
            "gather:\n  timeout: 3\nfeeds:\n" + feeds.map { "  - url: \"\($0.0)\"\n    section: \($0.1)\n" }.joined()
        try text.write(to: config, atomically: true, encoding: .utf8)
        return workspace
    }

    func edition(_ workspace: URL) throws -> Edition {
        try Workspace(root: workspace).loadEdition(EditionDate("2017-11-18")!)
    }

    @Test func gatherBuildsTheEditionAndReportsTheFeedsThatFailed() async throws {
        let server = try FeedTestServer()
        let fixtures = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures")
        let workspace = try workspace(feeds: [
            (server.url("feeds/wordpress.xml"), "Today"), (server.url("redirect/atom.xml"), "Today"),
            (server.url("feeds/podcast.xml"), "Listen"),
            (fixtures.appendingPathComponent("video.xml").absoluteString, "Watch"),
            (server.url("latin1/latin1.xml"), "Europe"),
            (server.url("status/404"), "Today"), (server.url("status/500"), "Today"),
            (server.url("feeds/page.html"), "Today"),
            (server.url("feeds/truncated.xml"), "Today"), (server.url("huge"), "Today"), (server.url("slow"), "Today"),
        ])
        let result = try await cli.digest(["gather", "2017-11-18"], in: workspace)
        #expect(result.status == 69, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("FAIL  \(server.url("status/404"))  the server answered HTTP 404"))
        #expect(result.stdout.contains("FAIL  \(server.url("status/500"))  the server answered HTTP 500"))
        #expect(result.stdout.contains("this is an HTML page, not a feed"))
        #expect(result.stdout.contains("not a well-formed feed: line"))
        #expect(result.stdout.contains("larger than the 20 MB limit"))
        #expect(result.stdout.contains("timed out"))
        #expect(result.stdout.contains("ok    \(server.url("feeds/wordpress.xml"))  4 items"))
        #expect(result.stdout.contains("6 feeds failed"))
        #expect(result.stdout.contains("\"An Item Without a Date\" has no date in its feed; kept"))
        let edition = try edition(workspace)
        #expect(edition.sections.map(\.title) == ["Today", "Listen", "Watch", "Europe"])
        #expect(edition.sections[3].items.first?.title == "Résumé de la journée")
        #expect(edition.sections[2].items.first?.kind == .video)
        #expect(!edition.items.contains { $0.title == "Yesterday's News" })
        #expect(edition.items.filter { $0.url.contains("raqqa-after-sdf") }.count == 1)
        // The edition gather wrote previews as any other.
        #expect(try await cli.digest(["preview", "2017-11-18"], in: workspace).status == 0)
    }

    @Test func regatherKeepsEditsUsesConditionalGETAndKeepsCutItemsOut() async throws {
        let server = try FeedTestServer()
        let workspace = try workspace(feeds: [
            (server.url("feeds/wordpress.xml"), "Today"), (server.url("feeds/podcast.xml"), "Listen"),
        ])
        #expect(try await cli.digest(["gather", "2017-11-18"], in: workspace).status == 0)
        var edition = try edition(workspace)
        let cut = edition.sections[0].items.remove(at: 1)
        edition.sections[0].items[0].summary = "My own words."
        edition.sections.reverse()
        edition.note = "Good morning."
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        try EditionFile.encode(edition).write(to: file, atomically: true, encoding: .utf8)

        let again = try await cli.digest(["gather", "2017-11-18"], in: workspace)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("(unchanged)"))
        #expect(again.stdout.contains("0 added"))
        #expect(again.stdout.contains("1 cut by you and kept out"))
        let after = try self.edition(workspace)
        #expect(after.sections.map(\.title) == ["Listen", "Today"])
        #expect(after.note == "Good morning.")
        #expect(after.sections[1].items[0].summary == "My own words.")
        #expect(!after.items.contains { $0.title == cut.title })
        #expect(try await server.hits().notModified == 2)
    }

    @Test func brokenEditionFileStopsGatherAndIsLeftAlone() async throws {
        let server = try FeedTestServer()
        let workspace = try workspace(feeds: [(server.url("feeds/wordpress.xml"), "Today")])
        let folder = workspace.appendingPathComponent("Editions/2017-11-18")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let broken = "date: 2017-11-18\nsubject: [unclosed\n"
        try broken.write(to: folder.appendingPathComponent("edition.yaml"), atomically: true, encoding: .utf8)
        let result = try await cli.digest(["gather", "2017-11-18"], in: workspace)
        #expect(result.status == 65)
        #expect(result.stderr.contains("Editions/2017-11-18/edition.yaml:"))
        #expect(try String(contentsOf: folder.appendingPathComponent("edition.yaml"), encoding: .utf8) == broken)
    }

    @Test func gatherNamesEveryItemItLeavesOutAndExits69() async throws {
        let corpus = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Corpus")
        let workspace = try workspace(feeds: [
            (corpus.appendingPathComponent("no-links-anywhere.xml").absoluteString, "Today"),
            (corpus.appendingPathComponent("podcast-enclosure-only.xml").absoluteString, "Listen"),
            (corpus.appendingPathComponent("several-faults.xml").absoluteString, "Today"),
        ])
        let result = try await cli.digest(["gather", "2026-11-19"], in: workspace)
        #expect(result.status == 69, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains(
                "dropped: \"Gate code changed\" (handover-880) from \(corpus.appendingPathComponent("no-links-anywhere.xml").absoluteString): its link \"mailto:office@handover.example\" is not a web"
            ))
        #expect(result.stdout.contains("1 item dropped"))
        #expect(result.stdout.contains("(malformed, read after 3 repairs: see feeds inspect)"))
        #expect(!result.stdout.contains("failed"))
        let edition = try Workspace(root: workspace).loadEdition(EditionDate("2026-11-19")!)
        let episode = try #require(
            edition.items.first {
                $0.title == "Episode 22: The lighthouse keeper" || $0.title == "Episode 23: The baker"
            })
        #expect(episode.url.hasPrefix("https://cdn.nightshift.example/episodes/"))
        #expect(edition.items.contains { $0.title == "Results: Red Lion 42 – Crown & Anchor 39" })
    }

    @Test func inspectSaysWhereEachLinkCameFromAndEveryRepair() async throws {
        let corpus = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Corpus")
        let faults = try await cli.digest([
            "feeds", "inspect", corpus.appendingPathComponent("several-faults.xml").path,
        ])
        #expect(faults.status == 0, "\(faults.stderr)")
        #expect(faults.stdout.contains("recovered: white space before the XML declaration (2 bytes) was skipped"))
        #expect(faults.stdout.contains("recovered: 2 unescaped & read as &amp;"))
        #expect(faults.stdout.contains("link from: link (the item's own)"))
        let podcast = try await cli.digest([
            "feeds", "inspect", corpus.appendingPathComponent("podcast-enclosure-only.xml").path, "--json",
        ])
        let object = try JSONSerialization.jsonObject(with: Data(podcast.stdout.utf8)) as? [String: Any]
        let items = object?["items"] as? [[String: Any]]
        #expect(items?.first?["linkSource"] as? String == "enclosure")
        #expect((object?["recoveries"] as? [String])?.isEmpty == true)
    }

    @Test func inspectShowsWhatDigestReadsAsTextAndJSON() async throws {
        let fixture = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures/podcast.xml").path
        let text = try await cli.digest(["feeds", "inspect", fixture])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("EA WorldView Podcast (RSS 2.0), 3 items"))
        #expect(text.stdout.contains("1. [podcast] Podcast: Lebanon is Caught Up in Saudi-Iran Confrontation"))
        #expect(text.stdout.contains("duration:  31:12"))
        let json = try await cli.digest(["feeds", "inspect", fixture, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let items = object?["items"] as? [[String: Any]]
        #expect(items?.count == 3)
        #expect(items?.first?["durationSeconds"] as? Int == 1872)
        let page = try await cli.digest([
            "feeds", "inspect",
            Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures/page.html").path,
        ])
        #expect(page.status == 65)
        #expect(page.stderr.contains("HTML page, not a feed"))
    }
}

@Suite("Adding an article by hand", .serialized)
struct AddTests {
    @Test func addReadsThePageAndAppendsTheArticleOnce() async throws {
        let server = try FeedTestServer()
        let cli = DigestBinary()
        let workspace = try cli.workspaceCopy()
        let url = server.url("feeds/article.html")
        let result = try await cli.digest(["add", url, "--section", "Watch", "--date", "2017-11-18"], in: workspace)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains(
                "added \"Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town\" to Watch"))
        let edition = try Workspace(root: workspace).loadEdition(EditionDate("2017-11-18")!)
        let added = try #require(edition.sections.first { $0.title == "Watch" }?.items.last)
        #expect(added.url == "https://eaworldview.com/2017/11/syria-daily/")
        guard case .article(let article) = added.content else {
            Issue.record("an added page is an article")
            return
        }
        #expect(article.author == "Scott Lucas")
        #expect(edition.items.count == 6)
        let again = try await cli.digest(["add", url, "--date", "2017-11-18"], in: workspace)
        #expect(again.status == 1)
        #expect(again.stderr.contains("is in the edition of 2017-11-18 already"))
    }
}
