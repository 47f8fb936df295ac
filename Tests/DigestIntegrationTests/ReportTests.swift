import DigestCore
import DigestStore
import DigestTestSupport
import Foundation
import Testing

/// What readers did: counted story clicks through `digest serve`, `digest report`, the report page and the
/// archive's feed.
@Suite("Reports and story clicks", .serialized)
struct ReportTests {
    let cli = DigestBinary()
    static let key = ["DIGEST_UNSUBSCRIBE_KEY": DigestBinary.serveKey]
    static let browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

    /// A sent edition with counted clicks: the sample's stories point at `stories` (`/story/N`), `digest
    /// serve` runs, and the edition went to `readers` through a real SMTP server.
    struct Sent {
        var workspace: URL
        var server: ServeProcess
        var smtp: SMTPTestServer
        var stories: FeedTestServer
    }

    func sendTracked(readers: Int, serveArguments: [String] = []) async throws -> Sent {
        let workspace = try await cli.workspaceCopy(readers: (0..<readers).map { "reader\($0)@example.org" })
        let stories = try FeedTestServer()
        let server = try cli.serve(workspace, serveArguments)
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        var number = 0
        let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n").map { line in
            guard line.hasPrefix("        url: https://eaworldview.com/2017/") else { return line }
            number += 1
            return "        url: \(stories.url("story/\(number)"))"
        }
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let config = workspace.appendingPathComponent("publication.yaml")
        try (try String(contentsOf: config, encoding: .utf8)
            + "tracking:\n  clicks: stories\n  base_url: http://127.0.0.1:\(server.port)\n").write(
                to: config, atomically: true, encoding: .utf8)
        let smtp = try SMTPTestServer()
        let sent = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", smtp.url], in: workspace, environment: Self.key)
        #expect(sent.status == 0, "\(sent.stdout)\(sent.stderr)")
        return Sent(workspace: workspace, server: server, smtp: smtp, stories: stories)
    }

    /// The story links of the edition's archive page, in order, without repeats.
    func storyLinks(_ sent: Sent) async throws -> [String] {
        let page = try await HTTPTestClient.request(port: sent.server.port, "GET", "/editions/2017-11-18")
        #expect(page.status == 200)
        var links: [String] = []
        for part in page.body.components(separatedBy: "href=\"").dropFirst() {
            let link = String(part.prefix { $0 != "\"" })
            if link.contains("/l/2017-11-18/"), !links.contains(link) { links.append(link) }
        }
        return links
    }

    func report(_ workspace: URL) async throws -> EditionReport {
        let result = try await cli.digest(["report", "2017-11-18", "--json"], in: workspace)
        #expect(result.status == 0, "\(result.stderr)")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(EditionReport.self, from: Data(result.stdout.utf8))
    }

    @Test func chromiumFollowsThreeStoryLinksToTheirStoriesAndEachClickIsCountedOnce() async throws {
        let sent = try await sendTracked(readers: 2)
        defer { sent.server.stop() }
        defer { sent.smtp.stop() }
        // The messages carry the counted links, never the stories' own addresses.
        for message in try sent.smtp.received() {
            let text = try String(contentsOf: message.file, encoding: .utf8)
            #expect(text.contains("/l/2017-11-18/1/"))
            #expect(!text.contains(sent.stories.url("story/1")))
        }
        let links = try await storyLinks(sent)
        #expect(links.count == 5, "\(links)")
        let folder = try Repository.temporaryFolder("clicks")
        for (index, link) in links.prefix(3).enumerated() {
            let result = try await Subprocess.run(
                "/usr/bin/chromium",
                [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-agent=\(Self.browser)",
                    "--user-data-dir=\(folder.appendingPathComponent("profile-\(index)").path)", "--dump-dom", link,
                ])
            #expect(result.stdout.contains("not found"), "\(link): \(result.stderr)")
        }
        // Each story's own server saw the browser arrive: the 302 led to the real address.
        let hits = try await sent.stories.hits().perPath
        #expect(hits["/story/1"] == 1 && hits["/story/2"] == 1 && hits["/story/3"] == 1, "\(hits)")
        #expect(hits["/story/4"] == nil)
        let report = try await report(sent.workspace)
        #expect(report.stories?.map(\.clicks) == [1, 1, 1, 0, 0])
        #expect(report.stories?.first?.url == sent.stories.url("story/1"))
        #expect(report.sent == 2)
    }

    @Test func tamperedTruncatedAndForeignLinksAre404AndScannersAreCountedApart() async throws {
        let sent = try await sendTracked(readers: 1)
        defer { sent.server.stop() }
        defer { sent.smtp.stop() }
        let links = try await storyLinks(sent)
        let path = try #require(links.first.map { String($0.dropFirst("http://127.0.0.1:\(sent.server.port)".count)) })
        let signature = String(path.split(separator: "/").last ?? "")
        let port = sent.server.port
        let bad = [
            "/l/2017-11-18/1/" + String(signature.reversed()), "/l/2017-11-18/1/", "/l/2017-11-18/1",
            "/l/2017-11-17/1/\(signature)", "/l/2017-11-18/2/\(signature)", "/l/2017-11-18/99/\(signature)",
            "/l/2017-11-18/0/\(signature)", "/l/not-a-date/1/\(signature)",
        ]
        for target in bad {
            #expect(try await HTTPTestClient.request(port: port, "GET", target).status == 404, "\(target)")
        }
        let good = try await HTTPTestClient.request(port: port, "GET", path, headers: ["User-Agent": Self.browser])
        #expect(good.status == 302)
        #expect(good.headers["location"] == sent.stories.url("story/1"))
        // A scanner's HEAD, a request without a user agent and a tool's: redirected, counted apart.
        #expect(try await HTTPTestClient.request(port: port, "HEAD", path).status == 302)
        #expect(try await HTTPTestClient.request(port: port, "GET", path).status == 302)
        #expect(
            try await HTTPTestClient.request(port: port, "GET", path, headers: ["User-Agent": "python-requests/2.31"])
                .status == 302)
        let story = try #require(try await report(sent.workspace).stories?.first)
        #expect(story.clicks == 1)
        #expect(story.scannerClicks == 3)
    }

    @Test func tenThousandClicksFromSixteenClientsAreEachCountedOnce() async throws {
        let sent = try await sendTracked(readers: 1)
        defer { sent.server.stop() }
        defer { sent.smtp.stop() }
        let links = try await storyLinks(sent)
        let prefix = "http://127.0.0.1:\(sent.server.port)"
        let paths = (0..<10_000).map { String(links[$0 % links.count].dropFirst(prefix.count)) }
        let file = try Repository.temporaryFolder("click-load").appendingPathComponent("paths.txt")
        try paths.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let result = try await Subprocess.run(
            Subprocess.python,
            [
                Repository.root.appendingPathComponent("Tests/Support/http_load.py").path, "--base", prefix, "--paths",
                file.path, "--connections", "16",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let load = try LoadReport(json: result.stdout)
        print("click load: \(load.requests) GETs in \(load.seconds) s, \(load.rate) requests/s")
        #expect(load.statuses == ["302": 10_000], "\(load.statuses)")
        #expect(load.errors == 0 && load.retries == 0)
        let stories = try #require(try await report(sent.workspace).stories)
        #expect(stories.map(\.clicks) == [2_000, 2_000, 2_000, 2_000, 2_000])
        #expect(stories.allSatisfy { $0.scannerClicks == 0 })
    }

    @Test func theReportPageShowsTheSameFiguresAsTheJSONAndChromiumDrawsIt() async throws {
        let sent = try await sendTracked(readers: 3, serveArguments: ["--preview"])
        defer { sent.server.stop() }
        defer { sent.smtp.stop() }
        let port = sent.server.port
        let links = try await storyLinks(sent)
        for link in links.prefix(2) {
            let path = String(link.dropFirst("http://127.0.0.1:\(port)".count))
            _ = try await HTTPTestClient.request(port: port, "GET", path, headers: ["User-Agent": Self.browser])
        }
        let report = try await report(sent.workspace)
        let page = try await HTTPTestClient.request(port: port, "GET", "/reports/2017-11-18")
        #expect(page.status == 200)
        for (id, value) in [
            ("sent", report.sent), ("deferred", report.deferred), ("failed", report.failed),
            ("unsubscribes", report.unsubscribes), ("hard-bounces", report.hardBounces),
        ] {
            #expect(page.body.contains("<td id=\"\(id)\">\(value)</td>"), "\(id)")
        }
        #expect(page.body.contains("<svg role=\"img\" aria-label=\"Clicks per story\""))
        #expect(page.body.components(separatedBy: "<td class=\"clicks\">1</td>").count - 1 == 2)
        #expect(try await HTTPTestClient.request(port: port, "GET", "/reports/2017-11-19").status == 404)
        let folder = try Repository.temporaryFolder("report-screenshot")
        let file = folder.appendingPathComponent("report.png")
        let shot = try await Subprocess.run(
            "/usr/bin/chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                "--user-data-dir=\(folder.appendingPathComponent("profile").path)", "--screenshot=\(file.path)",
                "--window-size=1000,900", "http://127.0.0.1:\(port)/reports/2017-11-18",
            ])
        #expect(FileManager.default.fileExists(atPath: file.path), "\(shot.stderr)")
        let stats = try await Subprocess.run(
            Subprocess.python, [Repository.root.appendingPathComponent("Tests/Support/png_stats.py").path, file.path])
        struct Stats: Decodable {
            var colours: Int
            var other_than_background: Double
        }
        let image = try JSONDecoder().decode(Stats.self, from: Data(stats.stdout.utf8))
        #expect(image.colours > 20 && image.other_than_background > 0.02, "\(stats.stdout)")
        // The public server has no report page.
        let publicServer = try cli.serve(sent.workspace)
        defer { publicServer.stop() }
        #expect(try await HTTPTestClient.request(port: publicServer.port, "GET", "/reports/2017-11-18").status == 404)
    }

    @Test func theArchiveFeedIsValidAtomWithTheEditionsNewestFirst() async throws {
        let workspace = try await cli.workspaceCopy(readers: ["ana@example.org"])
        let older = workspace.appendingPathComponent("Editions/2017-11-17")
        try FileManager.default.createDirectory(at: older, withIntermediateDirectories: true)
        try (try String(
            contentsOf: workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml"), encoding: .utf8)
        ).replacingOccurrences(of: "date: 2017-11-18", with: "date: 2017-11-17").write(
            to: older.appendingPathComponent("edition.yaml"), atomically: true, encoding: .utf8)
        let smtp = try SMTPTestServer()
        defer { smtp.stop() }
        #expect(try await cli.digest(["publish", "2017-11-17"], in: workspace).status == 0)
        let sent = try await cli.digest(
            ["send", "2017-11-18", "--yes", "--smtp", smtp.url], in: workspace, environment: Self.key)
        #expect(sent.status == 0, "\(sent.stderr)")
        let server = try cli.serve(workspace)
        defer { server.stop() }
        let archive = try await HTTPTestClient.request(port: server.port, "GET", "/")
        #expect(archive.body.contains("<link rel=\"alternate\" type=\"application/atom+xml\""))
        let feed = try await HTTPTestClient.request(port: server.port, "GET", "/feed.xml")
        #expect(feed.status == 200)
        #expect(feed.headers["content-type"] == "application/atom+xml; charset=utf-8")
        let script = """
            import feedparser, json, sys
            d = feedparser.parse(sys.stdin.buffer.read())
            print(json.dumps({"bozo": bool(d.bozo), "version": d.version, "links": [e.link for e in d.entries],
                              "titles": [e.title for e in d.entries], "summaries": [e.summary for e in d.entries]}))
            """
        let parsed = try await Subprocess.run(Subprocess.python, ["-c", script], input: Data(feed.body.utf8))
        #expect(parsed.status == 0, "\(parsed.stderr)")
        struct Parsed: Decodable {
            var bozo: Bool
            var version: String
            var links: [String]
            var titles: [String]
            var summaries: [String]
        }
        let result = try JSONDecoder().decode(Parsed.self, from: Data(parsed.stdout.utf8))
        #expect(result.bozo == false)
        #expect(result.version == "atom10")
        // publication.yaml names archive_url: the entries link there.
        #expect(result.links.count == 2)
        #expect(result.links[0].contains("2017-11-18") && result.links[1].contains("2017-11-17"))
        #expect(result.titles[0] == "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town")
        #expect(!result.summaries[0].isEmpty)
    }
}
