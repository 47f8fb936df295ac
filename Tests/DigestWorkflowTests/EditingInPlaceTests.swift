import DigestCore
import DigestMail
import DigestTestSupport
import DigestWorkflow
import Foundation
import Testing

/// Gather and add edit the editor's file, not a new rendering of it (issue 13, found 5).
@Suite("Gather and add keep the editor's file")
struct EditingInPlaceTests {
    /// 10:00 UTC on 18 November 2017.
    static let morning = Date(timeIntervalSince1970: 1_510_999_200)

    func environment(_ workspace: URL) -> DigestEnvironment {
        DigestEnvironment(
            now: { Self.morning }, identity: SequentialMessageIdentity(seed: "in-place"), variables: [:],
            currentDirectory: workspace)
    }

    static func rss(_ title: String, _ items: [(guid: String, title: String, hour: Int)]) -> String {
        let entries = items.map { item in
            """
              <item>
                <title>\(item.title)</title>
                <link>https://example.org/\(item.guid)/</link>
                <guid isPermaLink="false">\(item.guid)</guid>
                <pubDate>Sat, 18 Nov 2017 0\(item.hour):00:00 GMT</pubDate>
                <description>What \(item.title) is about. A second sentence.</description>
              </item>
            """
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0"><channel><title>\(title)</title><link>https://example.org/</link>
            \(entries.joined(separator: "\n"))
            </channel></rss>
            """
    }

    /// Every line of `before` except `owned` ones is in `after`, in the same order, byte for byte.
    static func keepsInOrder(_ before: String, in after: String, except owned: (Substring) -> Bool = { _ in false })
        -> Bool
    {
        var remaining = before.split(separator: "\n", omittingEmptySubsequences: false).filter { !owned($0) }[...]
        for line in after.split(separator: "\n", omittingEmptySubsequences: false) where remaining.first == line {
            remaining = remaining.dropFirst()
        }
        return remaining.isEmpty
    }

    @Test func twoGathersAndAnAddKeepEveryLineTheyDoNotOwn() throws {
        let workspace = try DigestBinary().workspaceCopy()
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("Editions/2017-11-18"))
        let feeds = workspace.appendingPathComponent("feeds")
        try FileManager.default.createDirectory(at: feeds, withIntermediateDirectories: true)
        let syriaFeed = feeds.appendingPathComponent("syria.xml")
        let worldFeed = feeds.appendingPathComponent("world.xml")
        try Self.rss("EA Syria", [("s1", "Syria", 9), ("s2", "Raqqa After the SDF", 8)])
            .write(to: syriaFeed, atomically: true, encoding: .utf8)
        try Self.rss("EA World", [("w1", "Iran Daily", 7)]).write(to: worldFeed, atomically: true, encoding: .utf8)
        let config = workspace.appendingPathComponent("publication.yaml")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(
            of: "  - url: https://eaworldview.com/feed/\n    section: Today\n",
            with: "  - url: \"\(syriaFeed.absoluteString)\"\n    section: Syria\n"
                + "  - url: \"\(worldFeed.absoluteString)\"\n    section: World\n")
        try text.write(to: config, atomically: true, encoding: .utf8)

        _ = try Gather.run(workspace: nil, date: nil, environment: environment(workspace))
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        let written = try String(contentsOf: file, encoding: .utf8)

        // The editor's hand: a comment, plain titles, a block list, a folded summary, the sections
        // reordered (World first), a blank line between them.
        var mine = written
        mine = mine.replacingOccurrences(
            of: "preheader:", with: "# TODO: ask for a quote before sending\npreheader:")
        mine = mine.replacingOccurrences(of: "  - title: \"Syria\"\n", with: "  - title: Syria\n")
        mine = mine.replacingOccurrences(of: "        title: \"Syria\"\n", with: "        title: Syria\n")
        let syriaStart = try #require(mine.range(of: "  - title: Syria\n"))
        let worldStart = try #require(mine.range(of: "  - title: \"World\"\n"))
        let removedStart = try #require(mine.range(of: "removed:"))
        let syriaBlock = String(mine[syriaStart.lowerBound..<worldStart.lowerBound])
        let worldBlock = String(mine[worldStart.lowerBound..<removedStart.lowerBound])
        mine.replaceSubrange(syriaStart.lowerBound..<removedStart.lowerBound, with: worldBlock + "\n" + syriaBlock)
        mine = mine.replacingOccurrences(
            of: "        summary: \"What Iran Daily is about. A second sentence.\"\n",
            with: "        categories:\n          - Iran\n          - Europe\n"
                + "        summary: >-\n          What Iran Daily is about.\n          A second sentence, folded.\n")
        try mine.write(to: file, atomically: true, encoding: .utf8)
        let handEdited = try Workspace(root: workspace).loadEdition(EditionDate(year: 2017, month: 11, day: 18)!)
        #expect(handEdited.sections.map(\.title) == ["World", "Syria"])

        // What gather owns here: the preheader it wrote (it follows the items) and Raqqa's title and
        // fingerprint, which the feed corrects below.
        let owned: (Substring) -> Bool = {
            $0.contains("Raqqa After the SDF") || ($0.contains("guid: \"s2\"") && $0.contains("fingerprint"))
                || $0.hasPrefix("preheader")
        }

        // Gather 1: a new item in Syria and a new section's worth of items from a third feed.
        try Self.rss("EA Syria", [("s1", "Syria", 9), ("s2", "Raqqa After the SDF", 8), ("s3", "Deir ez-Zor", 6)])
            .write(to: syriaFeed, atomically: true, encoding: .utf8)
        _ = try Gather.run(workspace: nil, date: nil, environment: environment(workspace))
        let afterFirst = try String(contentsOf: file, encoding: .utf8)
        #expect(Self.keepsInOrder(mine, in: afterFirst, except: owned))
        #expect(afterFirst.contains("        title: \"Deir ez-Zor\"\n"))

        // Gather 2: the feed corrects Raqqa's title (untouched by the editor, so gather owns it).
        try Self.rss(
            "EA Syria", [("s1", "Syria", 9), ("s2", "Raqqa After the SDF: Who Rebuilds?", 8), ("s3", "Deir ez-Zor", 6)]
        ).write(to: syriaFeed, atomically: true, encoding: .utf8)
        _ = try Gather.run(workspace: nil, date: nil, environment: environment(workspace))
        let afterSecond = try String(contentsOf: file, encoding: .utf8)
        #expect(Self.keepsInOrder(afterFirst, in: afterSecond, except: owned))
        #expect(afterSecond.contains("title: \"Raqqa After the SDF: Who Rebuilds?\""))

        // Add: an article from its page, into Syria.
        let page = Repository.root.appendingPathComponent("Tests/DigestFeedsTests/Fixtures/article.html")
        _ = try AddArticle.run(
            url: page.absoluteString, section: "Syria", workspace: nil, date: nil, environment: environment(workspace))
        let afterAdd = try String(contentsOf: file, encoding: .utf8)
        #expect(Self.keepsInOrder(afterSecond, in: afterAdd))
        for line in [
            "# TODO: ask for a quote before sending", "  - title: Syria", "        title: Syria",
            "          - Europe", "          A second sentence, folded.",
        ] {
            #expect(afterAdd.contains(line + "\n"), "\(line)")
        }
        // Every line of the editor's version that gather does not own is still there, in order.
        #expect(Self.keepsInOrder(mine, in: afterAdd, except: owned))
        let final = try Workspace(root: workspace).loadEdition(EditionDate(year: 2017, month: 11, day: 18)!)
        #expect(final.sections.map(\.title) == ["World", "Syria"])
        #expect(
            final.sections[1].items.map(\.title).last
                == "Syria Daily: Regime & Russia Try Again to Capture Last ISIS Town")
    }

    /// Found 4 and 6: a preheader that still names a cut story is flagged by check, and the next gather
    /// writes a fresh one (it was gather's own).
    @Test func checkFlagsAPreheaderNamingACutItemAndGatherRefreshesIt() async throws {
        let server = try FeedTestServer()
        let workspace = try DigestBinary().workspaceCopy()
        try FileManager.default.removeItem(at: workspace.appendingPathComponent("Editions/2017-11-18"))
        let config = workspace.appendingPathComponent("publication.yaml")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(
            of: "  - url: https://eaworldview.com/feed/\n",
            with: "  - url: \"\(server.url("feeds/wordpress.xml"))\"\n")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let environment = environment(workspace)
        let date = EditionDate(year: 2017, month: 11, day: 18)!
        let raqqa = "Raqqa After the SDF: Who Rebuilds?"
        _ = try await offThePool { try Gather.run(workspace: nil, date: "2017-11-18", environment: environment) }
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        var edition = try Workspace(root: workspace).loadEdition(date)
        #expect(edition.preheader.contains(raqqa))
        // The editor cuts Raqqa by deleting its lines (as in an editor), and checks before gathering.
        let lines = try String(contentsOf: file, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasSuffix("title: \"\(raqqa)\"") }) - 1
        let end = try #require(
            lines[(start + 1)...].firstIndex { $0.hasPrefix("      - kind:") || !$0.hasPrefix("   ") })
        try (lines[..<start] + lines[end...]).joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        edition = try Workspace(root: workspace).loadEdition(date)
        #expect(!edition.items.contains { $0.title == raqqa })
        let loaded = try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment)
        let report = Check.run(loaded, linkTimeout: nil)
        #expect(
            report.findings.contains {
                $0.severity == .warning && $0.message == "the preheader names \"\(raqqa)\", an item you cut"
            })
        // The next gather keeps Raqqa out and writes a preheader without it.
        _ = try await offThePool { try Gather.run(workspace: nil, date: "2017-11-18", environment: environment) }
        edition = try Workspace(root: workspace).loadEdition(date)
        #expect(!edition.preheader.contains(raqqa))
        #expect(!edition.preheader.isEmpty)
        let again = Check.run(
            try LoadedEdition(workspace: nil, date: "2017-11-18", environment: environment), linkTimeout: nil)
        #expect(!again.findings.contains { $0.message.contains("an item you cut") })
    }

    @Test func aFileThatCannotBeEditedInPlaceIsRewrittenAndTheEditorsCopyKept() throws {
        let workspace = try DigestBinary().workspaceCopy()
        let date = EditionDate(year: 2017, month: 11, day: 18)!
        let file = workspace.appendingPathComponent("Editions/2017-11-18/edition.yaml")
        let flow = """
            # mine
            date: 2017-11-18
            subject: Flow
            sections: [{title: Syria, items: [{kind: article, title: One, url: "https://example.org/1/"}]}]

            """
        try flow.write(to: file, atomically: true, encoding: .utf8)
        let place = Workspace(root: workspace)
        var edition = try place.loadEdition(date)
        edition.sections[0].items.append(
            Item(title: "Two", url: "https://example.org/2/", content: .article(Article())))
        let backup = try place.save(edition)
        #expect(backup == "Editions/2017-11-18/edition.yaml.bak")
        #expect(try String(contentsOf: file.appendingPathExtension("bak"), encoding: .utf8) == flow)
        #expect(try place.loadEdition(date) == edition)
        // A file in block style is edited in place, with no copy.
        edition.sections[0].items.append(
            Item(title: "Three", url: "https://example.org/3/", content: .article(Article())))
        #expect(try place.save(edition) == nil)
    }
}
