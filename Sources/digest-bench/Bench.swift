import DigestFeeds
import Foundation

/// `swift run -c release digest-bench`: performance figures measured side by side with the tools an
/// editor would otherwise use, in the same run. Never part of the test command.
@main
struct Bench {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        let runs = Int(arguments.first { $0.hasPrefix("--runs=") }?.dropFirst(7) ?? "") ?? 5
        let items = Int(arguments.first { $0.hasPrefix("--items=") }?.dropFirst(8) ?? "") ?? 5_000
        let messages = Int(arguments.first { $0.hasPrefix("--messages=") }?.dropFirst(11) ?? "") ?? 20_000
        print("digest-bench: \(runs) runs per case, medians")
        print("")
        if !arguments.contains("--skip-send") {
            // First, so that the process's peak memory is the send's.
            try SendCase.run(count: messages, connections: [1, 4, 8])
            print("")
        }
        try feedCase(items: items, runs: runs)
    }

    /// Parses a generated feed of `items` items with digest and with Python's feedparser.
    static func feedCase(items: Int, runs: Int) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("digest-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("feed.xml")
        let data = Data(generatedFeed(items: items).utf8)
        try data.write(to: file)

        // Interleaved rounds: digest parses, then feedparser (kept running in one Python process) parses
        // the same file; each round's ratio is taken, so that the machine's changing load weighs on both
        // sides of every ratio alike.
        try run(
            "/bin/sh",
            ["-c", "python3 -c 'import feedparser' 2>/dev/null || python3 -m pip install --quiet feedparser"])
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            """
            import feedparser, sys, time
            data = open(sys.argv[1], 'rb').read()
            for line in sys.stdin:
                t = time.perf_counter(); feed = feedparser.parse(data); elapsed = time.perf_counter() - t
                print(len(feed.entries) / elapsed, flush=True)
            """,
            file.path,
        ]
        let toPython = Pipe()
        let fromPython = Pipe()
        python.standardInput = toPython
        python.standardOutput = fromPython
        try python.run()
        var ours: [Double] = []
        var theirs: [Double] = []
        var ratios: [Double] = []
        var count = 0
        for _ in 0..<runs {
            let started = DispatchTime.now().uptimeNanoseconds
            let feed = try FeedParser.parse(data, url: "https://bench.example/feed.xml")
            let rate = Double(feed.items.count) / (Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            count = feed.items.count
            toPython.fileHandleForWriting.write(Data("go\n".utf8))
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = fromPython.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line += chunk
            }
            guard
                let baseline = Double(
                    String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            else { throw BenchError(message: "feedparser printed '\(String(decoding: line, as: UTF8.self))'") }
            ours.append(rate)
            theirs.append(baseline)
            ratios.append(rate / baseline)
        }
        try? toPython.fileHandleForWriting.close()
        python.waitUntilExit()
        print(
            "case                            figure          median    baseline (same run)     ratio (median of rounds)"
        )
        print(
            String(
                format:
                    "parse %d-item feed (%.1f MB)  items/s    %10.0f    feedparser %10.0f   %6.1f× (rounds %.1f–%.1f)",
                count,
                Double(data.count) / 1e6, median(ours), median(theirs), median(ratios), ratios.min() ?? 0,
                ratios.max() ?? 0))
        print("target: at least 20× feedparser")
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    struct BenchError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Starts a program in the background.
    static func start(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError(message: "\(executable) \(arguments.first ?? "") failed")
        }
        return String(decoding: output, as: UTF8.self)
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
