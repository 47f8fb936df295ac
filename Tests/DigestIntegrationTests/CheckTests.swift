import DigestCore
import DigestCurl
import DigestTestSupport
import Foundation
import Testing

/// Link checks through libcurl against a real HTTP server on loopback, and `digest check` as an editor runs it.
@Suite("Checking an edition", .serialized)
struct CheckTests {
    let cli = DigestBinary()

    @Test func linksAreAskedWithHEADThenGETAndJudgedByTheirAnswer() async throws {
        let server = try FeedTestServer()
        // A port nothing listens on: bound, closed, so the connection is refused.
        let closed = "http://127.0.0.1:9/"
        let urls = [
            server.url("head/ok"), server.url("feeds/rdf.xml"), server.url("redirect/atom.xml"),
            server.url("status/404"), server.url("status/410"), server.url("status/403"), server.url("status/503"),
            closed, "http://no-such-host.invalid/",
        ]
        let results = CurlLinkChecker(timeout: 3).check(urls)
        #expect(results.map(\.url) == urls)
        let byURL = Dictionary(uniqueKeysWithValues: results.map { ($0.url, $0) })
        #expect(byURL[server.url("head/ok")]?.outcome == .answers)
        #expect(byURL[server.url("head/ok")]?.neededGET == false)
        // The server refuses HEAD with 405 for everything else: a GET follows and decides.
        #expect(byURL[server.url("feeds/rdf.xml")]?.outcome == .answers)
        #expect(byURL[server.url("feeds/rdf.xml")]?.neededGET == true)
        #expect(byURL[server.url("feeds/rdf.xml")]?.status == 200)
        #expect(byURL[server.url("redirect/atom.xml")]?.outcome == .answers)
        #expect(byURL[server.url("status/404")]?.outcome == .broken("the server answered HTTP 404"))
        #expect(byURL[server.url("status/410")]?.outcome == .broken("the server answered HTTP 410"))
        #expect(
            byURL[server.url("status/403")]?.outcome
                == .doubtful("the server answered HTTP 403 (it may turn robots away)"))
        #expect(byURL[server.url("status/503")]?.outcome == .doubtful("the server answered HTTP 503"))
        #expect(byURL[closed]?.outcome == .broken("the connection was refused"))
        #expect(byURL["http://no-such-host.invalid/"]?.outcome == .broken(LinkCheck.unresolvedHost))
        let hits = try await server.hits().perPath
        #expect(hits["HEAD /feeds/rdf.xml"] == 1)
        #expect(hits["/feeds/rdf.xml"] == 1)
        #expect(hits["/head/ok"] == nil, "a link that answers HEAD is not fetched again")
    }

    @Test func slowLinksAreCheckedAtOnceAndTimeOut() throws {
        let server = try FeedTestServer()
        // /slow takes 10 s; four of them one after another would take 8 s at a 2 s timeout.
        let urls = Array(repeating: server.url("slow"), count: 4)
        let started = Date()
        let results = CurlLinkChecker(timeout: 2).check(urls)
        let seconds = Date().timeIntervalSince(started)
        #expect(results.allSatisfy { $0.outcome == .doubtful("no answer within the time limit") })
        // One after another they would take 8 s; at once, the timeout and some slack for a busy machine.
        #expect(seconds < 6, "checked in \(seconds) s")
    }

    @Test func checkOfTheSampleOfflineFindsNothing() async throws {
        let result = try await cli.digest(["check", "2017-11-18", "--offline"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Checking Editions/2017-11-18/edition.yaml: 5 items, HTML part 15."))
        #expect(result.stdout.hasSuffix("No problems found.\n"))
    }

    @Test func checkNamesEachProblemsItemAndFixAndFailsOnErrors() async throws {
        let server = try FeedTestServer()
        let workspace = try cli.workspaceCopy()
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        var text = try String(contentsOf: file, encoding: .utf8)
        let replacements = [
            // Every link of the edition on the test server: two answer, one is gone.
            "https://eaworldview.com/2017/11/syria-daily-regime-russia-try-capture-last-isis-town/": server.url(
                "feeds/atom.xml"),
            "https://eaworldview.com/2017/11/raqqa-after-sdf-who-rebuilds/": server.url("status/404"),
            "https://eaworldview.com/2017/11/iran-daily-rouhani-courts-europe/": server.url("feeds/atom.xml"),
            "https://eaworldview.com/2017/11/podcast-lebanon-caught-saudi-iran-confrontation/": server.url(
                "feeds/podcast.xml"),
            "https://eaworldview.com/podcasts/ea-podcast-058-lebanon.mp3": server.url("redirect/podcast.xml"),
            "https://eaworldview.com/2017/11/videocast-brexit-reshaped-uk-politics/": server.url("feeds/video.xml"),
            "preheader: Al-Bukamal again, Lebanon between Riyadh and Tehran, and Brexit's mark on British politics.\n":
                "",
        ]
        for (old, new) in replacements {
            #expect(text.contains(old))
            text = text.replacingOccurrences(of: old, with: new)
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
        // A template that adds a picture without alt text.
        let template = workspace.appendingPathComponent("Templates/digest.html.mustache")
        let html = try String(contentsOf: template, encoding: .utf8).replacingOccurrences(
            of: "{{publicationName}}</p>",
            with: "{{publicationName}}</p>\n<img src=\"https://example.org/logo.png\" width=\"120\">")
        try html.write(to: template, atomically: true, encoding: .utf8)
        let config = workspace.appendingPathComponent("publication.yaml")
        let publication = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(
                of: "https://eaworldview.com/newsletter/unsubscribe", with: server.url("feeds/rdf.xml")
            )
            .replacingOccurrences(of: "https://eaworldview.com/digest/{date}/", with: server.url("feeds/latin1.xml"))
        try publication.write(to: config, atomically: true, encoding: .utf8)

        let result = try await cli.digest(["check", "2017-11-18", "--timeout", "3"], in: workspace)
        #expect(result.status == 65, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Links: 6 of 7 answer"))
        #expect(
            result.stdout.contains(
                "error: Syria, item 2 \"Raqqa After the SDF: Who Rebuilds a City Nobody Controls?\": \(server.url("status/404")) does not answer: the server answered HTTP 404\n  fix: correct the link or cut the item"
            ))
        #expect(
            result.stdout.contains(
                "error: template: the HTML part has an image without alt text: https://example.org/logo.png\n  fix: add alt=\"…\" to its <img> in the template"
            ))
        #expect(result.stdout.contains("warning: edition: there is no preheader"))
        // Syria's lead and Iran's article now share a link.
        #expect(
            result.stdout.contains(
                "warning: Middle East, item 1 \"Iran Daily: Rouhani Courts Europe as Washington Hardens Its Line\": links to \(server.url("feeds/atom.xml")), as Syria, item 1"
            ))
        #expect(result.stdout.contains("2 errors, 2 warnings"))
        #expect(result.stderr.contains("has 2 errors to fix before sending"))
        // Errors come before warnings.
        let firstWarning = try #require(result.stdout.range(of: "\nwarning: "))
        #expect(!result.stdout[firstWarning.upperBound...].contains("\nerror: "))
    }
}
