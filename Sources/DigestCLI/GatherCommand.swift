import ArgumentParser
import DigestCore
import DigestCurl
import DigestFeeds
import Foundation

/// Fetches and parses feeds, several at a time, with the workspace's conditional-GET cache.
struct FeedReader {
    let cacheFolder: URL
    var timeout = 30

    struct Outcome {
        var source: FeedSource
        var result: Result<ParsedFeed, FetchError>
        var seconds: Double
        var notModified = false
    }

    struct CacheEntry: Codable {
        var etag: String?
        var lastModified: String?
        var charset: String?
    }

    func cachePaths(_ url: String) -> (meta: URL, body: URL) {
        let name = EditionMerger.fingerprint(title: url, summary: "feed")
        return (cacheFolder.appendingPathComponent("\(name).json"), cacheFolder.appendingPathComponent("\(name).body"))
    }

    /// Reads one feed: fetched, or the cached copy when the server says 304.
    func read(_ source: FeedSource, fetcher: CurlFetcher) -> Outcome {
        let started = Date()
        let paths = cachePaths(source.url)
        let cached = (try? Data(contentsOf: paths.meta)).flatMap {
            try? JSONDecoder().decode(CacheEntry.self, from: $0)
        }
        let hasBody = FileManager.default.fileExists(atPath: paths.body.path)
        switch fetcher.fetch(
            source.url, etag: hasBody ? cached?.etag : nil, lastModified: hasBody ? cached?.lastModified : nil)
        {
        case .failure(let error):
            return Outcome(source: source, result: .failure(error), seconds: Date().timeIntervalSince(started))
        case .success(let document):
            var body = document.body
            var charset = document.charset
            if document.notModified, let old = try? Data(contentsOf: paths.body) {
                body = old
                charset = cached?.charset
            } else if document.etag != nil || document.lastModified != nil {
                try? FileManager.default.createDirectory(at: cacheFolder, withIntermediateDirectories: true)
                try? body.write(to: paths.body, options: .atomic)
                let entry = CacheEntry(etag: document.etag, lastModified: document.lastModified, charset: charset)
                try? JSONEncoder().encode(entry).write(to: paths.meta, options: .atomic)
            }
            let result: Result<ParsedFeed, FetchError>
            do {
                result = .success(try FeedParser.parse(body, url: source.url, encoding: charset))
            } catch {
                result = .failure(FetchError(url: source.url, reason: "\(error)"))
            }
            return Outcome(
                source: source, result: result, seconds: Date().timeIntervalSince(started),
                notModified: document.notModified)
        }
    }

    /// Reads every feed, up to `concurrency` at once, each worker with its own connection.
    func readAll(_ sources: [FeedSource], concurrency: Int = 4, each: @escaping @Sendable (Outcome) -> Void)
        -> [Outcome]
    {
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var outcomes: [Outcome?]
            init(count: Int) { outcomes = Array(repeating: nil, count: count) }
        }
        let shared = Shared(count: sources.count)
        let group = DispatchGroup()
        let reader = self
        for _ in 0..<min(concurrency, max(1, sources.count)) {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let fetcher = try? CurlFetcher(configuration: .init(totalTimeout: reader.timeout)) else { return }
                while true {
                    let index: Int? = shared.lock.withLock {
                        guard shared.next < sources.count else { return nil }
                        shared.next += 1
                        return shared.next - 1
                    }
                    guard let index else { return }
                    let outcome = reader.read(sources[index], fetcher: fetcher)
                    shared.lock.withLock { shared.outcomes[index] = outcome }
                    each(outcome)
                }
            }.start()
        }
        group.wait()
        return shared.outcomes.enumerated().map { index, outcome in
            outcome
                ?? Outcome(
                    source: sources[index],
                    result: .failure(FetchError(url: sources[index].url, reason: "not fetched")), seconds: 0)
        }
    }
}

extension FeedReader.Outcome: @unchecked Sendable {}

struct GatherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gather",
        abstract: "Gather the day's items from the publication's feeds into the edition.",
        discussion: """
            Reads the feeds listed under 'feeds:' in publication.yaml, keeps the items of the day (or, with
            gather.window: since-last-edition, everything since the previous edition) and writes or updates
            Editions/<DATE>/edition.yaml. Run again, it adds new items and updates changed ones but keeps
            your order, cuts, notes and edited titles and summaries; an item you deleted does not come back.
            Exit status 0 when every feed worked, 69 when some failed but the edition was written.
            """
    )

    @Argument(help: "The edition's date, YYYY-MM-DD. Default: today.")
    var date: String?

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        let environment = Live.environment
        let workspace = try environment.workspace(options.workspace)
        let publication = try workspace.loadPublication()
        let date = try environment.editionDate(self.date, publication: publication)
        guard !publication.feeds.isEmpty else {
            throw Problem(
                file: "publication.yaml", message: "no feeds to gather",
                fix: "list them under 'feeds:' with a url and a section")
        }
        let file = workspace.editionFile(date)
        // A broken edition file stops the gather: it holds the editor's work and must not be overwritten.
        let existing = FileManager.default.fileExists(atPath: file.path) ? try workspace.loadEdition(date) : nil
        let previous = workspace.editionDates().last { $0 < date }
        let window = EditionMerger.window(
            for: date, settings: publication.gather, previous: previous, timeZone: publication.timeZone)

        let isTTY = Terminal.isTTY
        Console.out("Gathering \(publication.feeds.count) feed\(publication.feeds.count == 1 ? "" : "s") for \(date)")
        let reader = FeedReader(
            cacheFolder: workspace.root.appendingPathComponent(".digest-cache/feeds"),
            timeout: publication.gather.timeout)
        let outcomes = reader.readAll(publication.feeds) { outcome in
            Console.out(Self.line(outcome, styled: isTTY))
        }
        let gathered = outcomes.compactMap { outcome -> GatheredFeed? in
            guard case .success(let feed) = outcome.result else { return nil }
            return GatheredFeed(source: outcome.source, items: feed.items)
        }
        let failed = outcomes.count - gathered.count
        if gathered.isEmpty && existing == nil {
            throw CommandFailure(message: "no feed could be read, so no edition was written")
        }
        let (edition, report) = EditionMerger.merge(
            existing: existing, feeds: gathered, date: date, window: window,
            summaryLength: publication.gather.summaryLength)
        do {
            try FileManager.default.createDirectory(
                at: workspace.editionFolder(date), withIntermediateDirectories: true)
            // Written beside and renamed: the editor's file is never half-written.
            try Data(EditionFile.encode(edition).utf8).write(to: file, options: .atomic)
        } catch {
            throw CommandFailure(message: "cannot write \(workspace.displayPath(file)): \(error.localizedDescription)")
        }
        for title in report.undated {
            Console.out("  note: \"\(title)\" has no date in its feed; kept, check that it belongs to this edition")
        }
        Console.out(
            "\(workspace.displayPath(file)): \(report.added.count) added, \(report.updated.count) updated, "
                + "\(report.keptOut) cut by you and kept out, \(report.duplicates) duplicate\(report.duplicates == 1 ? "" : "s") skipped"
                + (failed > 0 ? "; \(failed) feed\(failed == 1 ? "" : "s") failed" : ""))
        if failed > 0 { throw ExitCode(ExitStatus.someFeedsFailed) }
    }

    static func line(_ outcome: FeedReader.Outcome, styled: Bool) -> String {
        let time = String(format: "%.1f s", outcome.seconds)
        switch outcome.result {
        case .success(let feed):
            let mark = styled ? "\u{1B}[32mok\u{1B}[39m  " : "ok  "
            return
                "  \(mark)  \(outcome.source.url)  \(feed.items.count) items\(outcome.notModified ? " (unchanged)" : "")  \(time)"
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
                ? source
                : URL(fileURLWithPath: source, relativeTo: environment.currentDirectory).standardizedFileURL
                    .absoluteString
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
                    FeedDump(format: feed.format.rawValue, title: feed.title, link: feed.link, items: feed.items))
                Console.out(String(decoding: data, as: UTF8.self))
                return
            }
            Console.out("\(feed.title) (\(feed.format.rawValue)), \(feed.items.count) items")
            for (index, item) in feed.items.enumerated() {
                Console.out("")
                Console.out("\(index + 1). [\(item.kind.rawValue)] \(item.title)")
                Console.out("   id:        \(item.id)")
                Console.out("   link:      \(item.link)")
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

    struct FeedDump: Encodable {
        var format: String
        var title: String
        var link: String
        var items: [FeedItem]
    }
}
