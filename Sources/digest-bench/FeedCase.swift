import DigestFeeds
import Foundation

/// Case 5: parsing a large WordPress-style feed, next to Python's feedparser on the same bytes.
enum FeedCase {
    static func run(_ options: Bench.Options, _ table: Table) throws {
        let folder = try scratchFolder("feed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("feed.xml")
        let data = Data(generatedFeed(items: options.items).utf8)
        try data.write(to: file)
        try ensurePython(["feedparser": "feedparser"])
        let python = try PythonWorker(
            script: """
                import feedparser, sys, time
                data = open(sys.argv[1], 'rb').read()
                for line in sys.stdin:
                    t = time.perf_counter(); feed = feedparser.parse(data); elapsed = time.perf_counter() - t
                    print(len(feed.entries) / elapsed, flush=True)
                """, arguments: [file.path])
        defer { python.close() }
        print("gather: parsing a \(options.items)-item feed of \(String(format: "%.1f", Double(data.count) / 1e6)) MB")
        var ours: [Double] = []
        var theirs: [Double] = []
        var ratios: [Double] = []
        for round in 1...options.runs {
            let started = seconds()
            let feed = try FeedParser.parse(data, url: "https://bench.example/feed.xml")
            let rate = Double(feed.items.count) / (seconds() - started)
            let baseline = try python.round()
            ours.append(rate)
            theirs.append(baseline)
            ratios.append(rate / baseline)
            print("  round \(round): digest \(format(rate)) items/s, feedparser \(format(baseline)) items/s")
        }
        let ratio = median(ratios)
        table.add(
            "gather: parse \(options.items)-item feed", figure: "items/s", ours: format(median(ours)),
            baseline: "feedparser \(format(median(theirs)))",
            ratio: "\(format(ratio))× (\(format(ratios.min() ?? 0))–\(format(ratios.max() ?? 0)))", target: "≥ 20×",
            met: ratio >= 20)
    }

    static func profile(items: Int, rounds: Int) throws {
        let data = Data(generatedFeed(items: items).utf8)
        func cpu() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        for _ in 0..<rounds {
            let started = seconds()
            let cpuStarted = cpu()
            let feed = try FeedParser.parse(data, url: "https://bench.example/feed.xml")
            print(
                "\(format(Double(feed.items.count) / (seconds() - started))) items/s wall, \(format(Double(feed.items.count) / (cpu() - cpuStarted))) items per CPU second"
            )
        }
    }

    /// A WordPress-like RSS feed: HTML descriptions with entities, categories, authors, thumbnails.
    static func generatedFeed(items: Int) -> String {
        var text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
            <channel><title>Bench</title><link>https://bench.example/</link><description>Bench</description>

            """
        let paragraph =
            "<p>Pro-Assad forces, backed by Russian airstrikes, are trying again &#8212; &ldquo;tightened the siege&rdquo; &amp; more. <a href=\"/x\">Read</a> <strong>now</strong>.</p>"
        for index in 0..<items {
            let day = 1 + index % 28
            text += """
                <item><title>Story \(index): Regime &amp; Russia Try Again</title>
                <link>https://bench.example/2017/11/story-\(index)/</link><guid isPermaLink="false">https://bench.example/?p=\(index)</guid>
                <pubDate>Sat, \(day) Nov 2017 09:30:00 +0000</pubDate><dc:creator><![CDATA[Scott Lucas]]></dc:creator>
                <category><![CDATA[Syria]]></category><category><![CDATA[Russia]]></category>
                <description><![CDATA[\(String(repeating: paragraph, count: 4))]]></description>
                <content:encoded><![CDATA[\(String(repeating: paragraph, count: 6))]]></content:encoded>
                <media:thumbnail url="https://bench.example/img/\(index).jpg"/></item>

                """
        }
        return text + "</channel></rss>\n"
    }
}
