import ArgumentParser
import DigestCore
import DigestCurl
import DigestFeeds
import DigestHTML
import DigestWorkflow
import Foundation

struct GatherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gather",
        abstract: "Gather the day's items from the publication's feeds into the edition.",
        discussion: """
            Reads the feeds listed under 'feeds:' in publication.yaml, keeps the items of the day (or, with
            gather.window: since-last-edition, everything since the previous edition) and writes or updates
            Editions/<DATE>/edition.yaml. Run again, it adds new items and updates changed ones but keeps
            your order, cuts, notes and edited titles and summaries; an item you deleted does not come back.
            Every item of the day that cannot be put in the edition (no web link, permalink, enclosure or
            feed page to point to) is named with the reason. Exit status 0 when every feed worked and every
            item was kept; 69 when some feeds failed or some items were dropped, but the edition was written.
            """
    )

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.")
    var date: String?

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let isTTY = Terminal.isTTY
        let report = try Gather.run(
            workspace: options.workspace, date: date, environment: Live.environment,
            onStart: { date, feeds in Console.out("Gathering \(feeds) feed\(feeds == 1 ? "" : "s") for \(date)") },
            onFeed: { outcome in Console.out(Self.line(outcome, styled: isTTY)) })
        let merge = report.merge
        for title in merge.undated {
            Console.out("  note: \"\(title)\" has no date in its feed; kept, check that it belongs to this edition")
        }
        for item in report.droppedItems {
            Console.out("  dropped: \"\(item.title)\" (\(item.id)) from \(item.feed): \(item.reason)")
        }
        let failed = report.failedFeeds
        let dropped = report.droppedItems.count
        Console.out(
            "\(report.file): \(merge.added.count) added, \(merge.updated.count) updated, "
                + "\(merge.keptOut) cut by you and kept out, \(merge.duplicates) duplicate\(merge.duplicates == 1 ? "" : "s") skipped"
                + (dropped > 0 ? ", \(dropped) item\(dropped == 1 ? "" : "s") dropped" : "")
                + (failed > 0 ? "; \(failed) feed\(failed == 1 ? "" : "s") failed" : ""))
        if let backup = report.backup {
            Console.out(
                "  note: your file was in a shape gather cannot edit in place; it was rewritten and your version kept as \(backup)"
            )
        }
        if report.isIncomplete { throw ExitCode(ExitStatus.someFeedsFailed) }
    }

    static func line(_ outcome: FeedReader.Outcome, styled: Bool) -> String {
        let time = String(format: "%.1f s", outcome.seconds)
        switch outcome.result {
        case .success(let feed):
            let mark = styled ? "\u{1B}[32mok\u{1B}[39m  " : "ok  "
            let repairs = feed.recoveries.count
            let malformed =
                repairs == 0
                ? "" : " (malformed, read after \(repairs) repair\(repairs == 1 ? "" : "s"): see feeds inspect)"
            return
                "  \(mark)  \(outcome.source.url)  \(feed.items.count) items\(outcome.notModified ? " (unchanged)" : "")\(malformed)  \(time)"
        case .failure(let error):
            let mark = styled ? "\u{1B}[31mFAIL\u{1B}[39m" : "FAIL"
            return "  \(mark)  \(outcome.source.url)  \(error.reason)  \(time)"
        }
    }
}

struct FeedsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feeds", abstract: "Check feeds before adding them.", subcommands: [Inspect.self])

    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what digest reads from one feed, item by item.",
            discussion: "digest feeds inspect https://eaworldview.com/feed/\ndigest feeds inspect podcast.xml --json")

        @Argument(help: "The feed's URL, or a file.") var source: String
        @Flag(help: "Print JSON for scripts.") var json = false

        func run() async throws {
            let environment = Live.environment
            let lower = source.lowercased()
            let url =
                lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("file://")
                ? source : environment.path(source).absoluteString
            let fetcher = try CurlFetcher()
            let document: FetchedDocument
            switch fetcher.fetch(url) {
            case .failure(let error): throw CommandFailure(message: "\(error)")
            case .success(let fetched): document = fetched
            }
            let feed: ParsedFeed
            do {
                feed = try FeedParser.parse(document.body, url: url, encoding: document.charset)
            } catch {
                throw CommandFailure(message: "\(url): \(error)", status: ExitStatus.badInput)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                let data = try encoder.encode(
                    FeedDump(
                        format: feed.format.rawValue, title: feed.title, link: feed.link, recoveries: feed.recoveries,
                        items: feed.items))
                Console.out(String(decoding: data, as: UTF8.self))
                return
            }
            Console.out("\(feed.title) (\(feed.format.rawValue)), \(feed.items.count) items")
            for recovery in feed.recoveries { Console.out("recovered: \(recovery)") }
            for (index, item) in feed.items.enumerated() {
                Console.out("")
                Console.out("\(index + 1). [\(item.kind.rawValue)] \(item.title)")
                Console.out("   id:        \(item.id)")
                Console.out("   link:      \(item.link)")
                Console.out("   link from: \(FeedsCommand.linkOrigin(item.linkSource))")
                Console.out(
                    "   published: \(item.published.map(Timestamp.format) ?? "NO DATE (kept and flagged by gather)")")
                if !item.author.isEmpty { Console.out("   author:    \(item.author)") }
                if !item.categories.isEmpty { Console.out("   category:  \(item.categories.joined(separator: ", "))") }
                if let enclosure = item.enclosure {
                    Console.out(
                        "   enclosure: \(enclosure.url) (\(enclosure.type)\(enclosure.length.map { ", \($0) bytes" } ?? ""))"
                    )
                }
                if let duration = item.duration { Console.out("   duration:  \(duration)") }
                if let episode = item.episode { Console.out("   episode:   \(episode)") }
                if let image = item.imageURL { Console.out("   image:     \(image)") }
                Console.out("   summary:   \(HTMLCleaner.summary(item.summary, length: 200))")
            }
        }
    }

    /// Where an item's link came from, for `feeds inspect`.
    static func linkOrigin(_ source: FeedItem.LinkSource) -> String {
        switch source {
        case .link: "link (the item's own)"
        case .guid: "guid (a permalink GUID: the item has no link of its own)"
        case .enclosure: "enclosure (the item has no link or permalink of its own)"
        case .feed: "feed (the item has no link, permalink or enclosure: its feed's web page)"
        case .none: "none (no web link at all: gather leaves it out and says so)"
        }
    }

    struct FeedDump: Encodable {
        var format: String
        var title: String
        var link: String
        var recoveries: [String]
        var items: [FeedItem]
    }
}
